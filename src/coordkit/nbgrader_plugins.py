"""nbgrader plug-ins, wired in assignments/nbgrader_config.py.

FeedbackRedaction runs when nbgrader generates feedback. Stock nbgrader copies hidden tests into the
feedback HTML (jupyter/nbgrader#917, #1363), and a failing hidden assert shows the expected answer in
its traceback. This preprocessor removes hidden-test and solution regions from every cell and
replaces the error output of a failed test with a neutral message; answer-format messages (which
never reveal the answer) are kept, without the traceback.
"""

from __future__ import annotations

import re

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

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


class FeedbackRedaction(Preprocessor):
    enabled = Bool(True).tag(config=True)   # nbgrader registers plug-ins without enabling them

    def preprocess_cell(self, cell, resources, index):
        cell.source = redact_source(cell.source)
        if cell.cell_type == "code":
            cell.outputs = redact_outputs(cell.get("outputs", []))
        return cell, resources
