"""nbgrader plug-ins, wired in assignments/nbgrader_config.py.

FeedbackRedaction runs when nbgrader generates feedback. Stock nbgrader copies hidden tests into the
feedback HTML (jupyter/nbgrader#917, #1363), and a failing hidden assert shows the expected answer in
its traceback. This preprocessor removes hidden-test and solution regions from every cell and
replaces the error output of a failed test with a neutral message; answer-format messages (which
never reveal the answer) are kept, without the traceback.

It also appends, after each manually graded answer, the rubric that answer was graded with: the
rubric block (between rubrics.BEGIN and rubrics.END) of the same cell in the assignment's source
notebook, which is the graders' mark scheme. Only that block is copied, never the model answer.
"""

from __future__ import annotations

import os
import re

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

from .rubrics import extract_markdown

_REGIONS = [
    (re.compile(r"^[ \t]*#+[ \t]*BEGIN HIDDEN TESTS.*?^[ \t]*#+[ \t]*END HIDDEN TESTS[^\n]*\n?", re.S | re.M),
     "# （非公開のテストは採点にのみ使われます / hidden tests are used for grading only）\n"),
    (re.compile(r"^[ \t]*#+[ \t]*BEGIN SOLUTION.*?^[ \t]*#+[ \t]*END SOLUTION[^\n]*\n?", re.S | re.M), ""),
    (re.compile(r"=== BEGIN MARK SCHEME ===.*?=== END MARK SCHEME ===", re.S), ""),
]
FORMAT_ERRORS = {"AnswerFormatError"}
NOT_CORRECT = "答えが正しくありません。 / The answer is not correct."


def redact_source(source: str) -> str:
    for pattern, replacement in _REGIONS:
        source = pattern.sub(replacement, source)
    return source


def redact_outputs(outputs: list) -> list:
    cleaned = []
    for out in outputs:
        if out.get("output_type") == "error":
            if out.get("ename") in FORMAT_ERRORS:
                out["traceback"] = [f"{out['ename']}: {out.get('evalue', '')}"]
            else:
                out["ename"], out["evalue"], out["traceback"] = "不正解", NOT_CORRECT, [NOT_CORRECT]
        elif out.get("output_type") == "stream" and out.get("name") == "stderr":
            continue  # warnings and kernel noise are not feedback
        cleaned.append(out)
    return cleaned


def _is_manual_answer(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade") and meta.get("solution")) and cell.get("cell_type") == "markdown"


def source_rubrics(source_path: str) -> dict[str, str]:
    """grade_id -> rendered rubric, for the manually graded cells of a source notebook."""
    import nbformat

    nb = nbformat.read(source_path, as_version=4)
    found = {}
    for cell in nb.cells:
        block = extract_markdown(cell.source) if _is_manual_answer(cell) else None
        if block:
            found[cell.metadata["nbgrader"]["grade_id"]] = block
    return found


def append_rubrics(nb, rubrics: dict[str, str]):
    """A markdown cell with its rubric after each manually graded answer that has one."""
    import nbformat

    cells = []
    for cell in nb.cells:
        cells.append(cell)
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if _is_manual_answer(cell) and grade_id in rubrics:
            cells.append(nbformat.v4.new_markdown_cell(rubrics[grade_id],
                                                       metadata={"coordkit": {"rubric_for": grade_id}}))
    nb.cells = cells
    return nb


class FeedbackRedaction(Preprocessor):
    enabled = Bool(True).tag(config=True)   # nbgrader registers plug-ins without enabling them
    show_rubrics = Bool(True, help="Append each manual answer's rubric from the source notebook").tag(config=True)

    def preprocess(self, nb, resources):
        nb, resources = super().preprocess(nb, resources)
        info = resources.get("nbgrader", {})
        if self.show_rubrics and info.get("assignment") and info.get("notebook"):
            from nbgrader.coursedir import CourseDirectory

            coursedir = CourseDirectory(config=self.config)
            path = os.path.join(coursedir.format_path(coursedir.source_directory, ".", info["assignment"]),
                                f"{info['notebook']}.ipynb")
            if os.path.isfile(path):
                nb = append_rubrics(nb, source_rubrics(path))
            else:
                self.log.warning("No source notebook %s: feedback without rubrics", path)
        return nb, resources

    def preprocess_cell(self, cell, resources, index):
        cell.source = redact_source(cell.source)
        if cell.cell_type == "code":
            cell.outputs = redact_outputs(cell.get("outputs", []))
        return cell, resources
