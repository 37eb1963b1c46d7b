"""Errors a user can cause. The CLI prints each as one line and exits with 1."""

from __future__ import annotations


class CoordkitError(Exception):
    """Base class: the message names what is wrong and the next step."""


class ConfigError(CoordkitError):
    """pyproject.toml [tool.coordkit] is missing or wrong."""


class FactsError(CoordkitError):
    """datasets/facts.yml is missing, malformed or refers to an unknown fact."""


class AssignmentError(CoordkitError):
    """Unknown assignment id, or a malformed item bank."""


class DatasetError(CoordkitError):
    """A table the evaluation reads is missing or invalid (file, row and column are named)."""


class OutputError(CoordkitError):
    """An output folder cannot be written."""


class ToolError(CoordkitError):
    """An external tool (nbgrader, jupyter-book, a notebook) failed; the log file is named."""


DEBUG_ENV = "COORDKIT_DEBUG"


def debug_requested(flag: bool = False, *, environ: dict[str, str] | None = None) -> bool:
    """True when `--debug` was given or COORDKIT_DEBUG is set to something other than '', '0', 'no', 'false'."""
    import os

    value = (os.environ if environ is None else environ).get(DEBUG_ENV, "").strip().lower()
    return flag or value not in ("", "0", "no", "false", "off")


def cause_chain(exc: BaseException) -> list[BaseException]:
    """The exception and every cause behind it, outermost first, including causes hidden by `from None`."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        chain.append(current)
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return chain


def debug_report(exc: BaseException) -> str:
    """Every traceback of the cause chain, innermost cause first, as Python prints a chained exception.

    Our one-line errors are raised `from None` so users are not shown a traceback; that also tells Python
    to hide the cause. For `--debug` the hidden causes are shown anyway: `__context__` is still set.
    """
    import traceback

    blocks = ["".join(traceback.format_exception(type(e), e, e.__traceback__, chain=False))
              for e in reversed(cause_chain(exc))]
    return "\nThe above exception led to the following one:\n\n".join(blocks)
