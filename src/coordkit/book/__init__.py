"""The course book: building it with Jupyter Book (build: `build_book`, and `page_facts` /
`deadline_text` that book pages and their code cells import), exporting its pages as notebooks for a
trainee's JupyterLab (notebooks), the self-checks pages embed (selfcheck), marking Japanese runs for
screen readers (a11y), page statistics (pagestats: `python -m coordkit.book.pagestats`, not
re-exported here so that it runs cleanly as a script), and the Sphinx extensions that render facts,
deadlines, the glossary, the syllabus, the two editions, Japanese search and accessibility fixes
(extensions/, named in _config.yml).

May import: coordkit.content (facts, syllabus, glossary), `errors` and `config`, and coordkit.course
for the tool environment and log folder of a build (inside functions); Sphinx, docutils and
Jupyter Book. Within coordkit only the command line and the demo import this package (book pages
do too); it never imports coordkit.cli, grading, marking, certification or cohort. The extensions are not imported here (Sphinx loads them by
name), so a book page that imports `coordkit.book` does not pull in Sphinx."""

from .a11y import fix_theme_names, mark_languages
from .build import (DEADLINE_FLAGS, BuildResult, build_book, deadline_text, facts_from_text, format_day,
                    merged_config, page_facts)
from .notebooks import ExportResult, NotebookExportError, embedded_facts, export_notebooks, export_page, page_titles
from .selfcheck import MultiSelect, Question, SelfCheck, ShortAnswer, TrueFalse

__all__ = [
    "DEADLINE_FLAGS", "BuildResult", "build_book", "deadline_text", "facts_from_text", "format_day",
    "merged_config", "page_facts",
    "ExportResult", "NotebookExportError", "embedded_facts", "export_notebooks", "export_page", "page_titles",
    "MultiSelect", "Question", "SelfCheck", "ShortAnswer", "TrueFalse",
    "fix_theme_names", "mark_languages",
]
