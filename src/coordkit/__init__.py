"""coordkit: runs the training of ISA Support Coordinators for Foreign Nationals."""

__version__ = "0.1.0"


def _defer_iri_grammar() -> None:
    """jsonschema registers its `iri` format checks with rfc3987_syntax, whose import builds an Earley
    grammar (about two seconds on a 2-core machine); every coordkit command that imports nbformat paid
    for it, and coordkit checks no `iri` format. The module is imported when a check first calls it."""
    import importlib
    import importlib.util
    import sys
    import types

    name = "rfc3987_syntax"
    spec = None if name in sys.modules else importlib.util.find_spec(name)
    if spec is None:
        return

    def load():
        if sys.modules.get(name) is stub:
            del sys.modules[name]
        return importlib.import_module(name)

    def is_valid_syntax(term: str, value: str) -> bool:
        return load().is_valid_syntax(term, value)

    stub = types.ModuleType(name, "rfc3987_syntax, imported on first use (see coordkit._defer_iri_grammar)")
    stub.__spec__, stub.__path__ = spec, spec.submodule_search_locations
    stub.is_valid_syntax = is_valid_syntax
    stub.__getattr__ = lambda attr: getattr(load(), attr)       # anything else: the real module
    sys.modules[name] = stub


_defer_iri_grammar()

from . import _legacy  # noqa: E402

_legacy.install()
