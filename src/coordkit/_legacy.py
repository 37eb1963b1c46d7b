"""Old import paths that keep working after a module moved into a subpackage.

Released assignments, evaluator notebooks, book pages, `_config.yml`, `nbgrader_config.py` and the
deployment files name coordkit modules by dotted path; a course released last year must still grade.
Instead of a shim file per moved module, this one table maps each old path to its new home, and a
meta-path finder makes `import coordkit.<old>` return the new module itself (the same object, so
`coordkit.<old>.X is coordkit.<new>.X` and a monkeypatch on either is seen by both).

Only add entries here when a module moves; remove none (a path once public stays importable)."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

MOVED: dict[str, str] = {
    # content/ and book/ (coordkit.book is now the package: its __init__ re-exports build's API)
    "coordkit.facts": "coordkit.content.facts",
    "coordkit.syllabus": "coordkit.content.syllabus",
    "coordkit.glossary": "coordkit.content.glossary",
    "coordkit.rubrics": "coordkit.content.rubrics",
    "coordkit.easyja": "coordkit.content.easyja",
    "coordkit.themes": "coordkit.content.themes",
    "coordkit.vocab": "coordkit.content.vocab",
    "coordkit.banks": "coordkit.content.banks",
    "coordkit.book_notebooks": "coordkit.book.notebooks",
    "coordkit.selfcheck": "coordkit.book.selfcheck",
    "coordkit.a11y": "coordkit.book.a11y",
    "coordkit.pagestats": "coordkit.book.pagestats",
    "coordkit.sphinx_facts": "coordkit.book.extensions.facts",
    "coordkit.sphinx_glossary": "coordkit.book.extensions.glossary",
    "coordkit.sphinx_syllabus": "coordkit.book.extensions.syllabus",
    "coordkit.sphinx_edition": "coordkit.book.extensions.edition",
    "coordkit.sphinx_search": "coordkit.book.extensions.search",
    "coordkit.sphinx_a11y": "coordkit.book.extensions.a11y",
    "coordkit.sphinx_nodes": "coordkit.book.extensions.nodes",
    # the command line
    "coordkit.cli_certify": "coordkit.cli.certify",
    "coordkit.cli_hub": "coordkit.cli.hub",
    "coordkit.cli_mark": "coordkit.cli.mark",
    "coordkit.cli_book": "coordkit.cli.book",
    # cohort/: the cohort tables, their evaluation, simulation, report and plots
    "coordkit.evaluation": "coordkit.cohort.evaluation",
    "coordkit.simulate": "coordkit.cohort.simulate",
    "coordkit.report": "coordkit.cohort.report",
    "coordkit.plotting": "coordkit.cohort.plotting",
    "coordkit.capacity": "coordkit.cohort.capacity",
    "coordkit.datahash": "coordkit.cohort.datahash",
    # certification/ and course/
    "coordkit.register": "coordkit.certification.register",
    "coordkit.certificate": "coordkit.certification.certificate",
    "coordkit.migrations": "coordkit.certification.migrations",
    "coordkit.course_calendar": "coordkit.course.calendar",
    "coordkit.exchange": "coordkit.course.exchange",
    "coordkit.hub": "coordkit.course.hub",
    "coordkit.export": "coordkit.course.export",
    "coordkit.moodle": "coordkit.course.moodle",
    # grading/ (coordkit.grading is now the package: its __init__ re-exports the old module's API)
    "coordkit.sandbox": "coordkit.grading.sandbox",
    "coordkit.nbgrader_plugins": "coordkit.grading.nbgrader_plugins",
    "coordkit.feedback_page": "coordkit.grading.feedback_page",
    "coordkit.testproc": "coordkit.grading.testproc",
}


class _Alias(importlib.abc.Loader):
    """Loads an old path by importing the new one; the import system then files the same module
    object under the old name too."""

    def __init__(self, target: str):
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module):
        pass            # already executed under its new name


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        new = MOVED.get(fullname)
        return None if new is None else importlib.util.spec_from_loader(fullname, _Alias(new))


def install() -> None:
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
