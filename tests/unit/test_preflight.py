"""Submission preflight (coordkit.grading.intake.preflight): what is quarantined before nbgrader or a
checker ever reads a submission, decided on the files alone, without kernels. A trainee's folder is untrusted data."""

import json
import os

import nbformat
import pytest

from coordkit.grading.intake import preflight
from coordkit.grading.sandbox import Limits

ASSIGNMENT = "cs01_job_loss"
DEFINITION = {"name": ASSIGNMENT, "notebooks": [{
    "name": ASSIGNMENT,
    "source_cells": [("q1_answer", "code", True), ("q1_test", "code", True), ("intro", "markdown", True)],
    "grade_cells": [("q1_test", 2.0, "code")],
    "task_cells": [],
}]}
RELEASED = {ASSIGNMENT: {"intro": "# 失業したときの手続き", "q1_test": "check('q1')"}}


def cell(grade_id, source="", *, kind="code", **extra):
    make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    c = make(source, metadata={"nbgrader": {"grade_id": grade_id, "solution": grade_id.endswith("_answer"),
                                            "grade": grade_id.endswith("_test"), "locked": True}})
    c.update(extra)
    return c


def notebook(*cells, assignment=ASSIGNMENT):
    nb = nbformat.v4.new_notebook(cells=list(cells) or [cell("intro", "# 失業したときの手続き", kind="markdown"),
                                                        cell("q1_answer", "answer = 14"),
                                                        cell("q1_test", "check('q1')")])
    nb.metadata["coordkit"] = {"assignment": assignment}
    return nb


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "submitted" / "tr001" / ASSIGNMENT
    path.mkdir(parents=True)
    return path


def run(folder, limits=Limits()):
    return preflight(folder, definition=DEFINITION, released=RELEASED, limits=limits)


def write(folder, nb, name=f"{ASSIGNMENT}.ipynb"):
    nbformat.write(nb, folder / name)


def test_a_clean_submission_passes_without_notes(folder):
    write(folder, notebook())
    assert run(folder) == (None, [])


def test_too_many_files_is_quarantined(folder):
    write(folder, notebook())
    for n in range(5):
        (folder / f"extra{n}.txt").write_text("x")
    reason, notes = run(folder, Limits(submission_files=4))
    assert reason.startswith("the submission holds more than 4 files and folders") and notes == []
    assert run(folder, Limits(submission_files=6))[0] is None


def test_a_huge_folder_names_its_largest_file(folder):
    write(folder, notebook())
    (folder / "video.mp4").write_bytes(b"\0" * 3000)
    reason, _ = run(folder, Limits(submission_bytes=2048))
    assert "over the 0.0 MB limit" in reason and "largest file: video.mp4" in reason


def test_a_huge_notebook_asks_to_clear_outputs(folder):
    nb = notebook()
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="x" * 4000)]
    write(folder, nb)
    reason, _ = run(folder, Limits(notebook_bytes=2000))
    assert reason.startswith(f"{ASSIGNMENT}.ipynb is ") and "Clear Outputs of All Cells" in reason


def test_a_symbolic_link_is_refused_even_to_a_harmless_file(folder, tmp_path):
    write(folder, notebook())
    (tmp_path / "elsewhere.txt").write_text("x")
    os.symlink(tmp_path / "elsewhere.txt", folder / "link.txt")
    reason, _ = run(folder)
    assert "symbolic link (link.txt ->" in reason


def test_a_special_file_is_refused(folder):
    write(folder, notebook())
    os.mkfifo(folder / "pipe")
    assert run(folder)[0] == "contains a special file (pipe); the trainee must submit plain files"


@pytest.mark.parametrize("content, reason", [
    (b"\xff\xfe{}", "is not UTF-8 text (byte 0xff at offset 0)"),
    (b'{"cells": [', "is not valid JSON (line 1"),
    (b"[" * 100_000 + b"]" * 100_000, "JSON nested too deeply"),
    (json.dumps({"cells": [], "nbformat": 3}).encode(), "is JSON but not a Jupyter notebook (version 4)"),
])
def test_damaged_notebooks_are_quarantined_with_the_reason(folder, content, reason):
    (folder / f"{ASSIGNMENT}.ipynb").write_bytes(content)
    assert reason in run(folder)[0]


def test_another_assignments_notebook_is_named(folder):
    write(folder, notebook(assignment="cs02_housing"))
    assert run(folder)[0].startswith(f"{ASSIGNMENT}.ipynb is the notebook of assignment cs02_housing")


def test_a_notebook_with_none_of_the_graded_cells_is_refused(folder):
    write(folder, notebook(cell("unknown_cell", "print(1)")))
    assert "has none of the graded cells of cs01_job_loss" in run(folder)[0]


def test_a_missing_notebook_names_what_the_folder_holds(folder):
    (folder / "answers.docx").write_bytes(b"PK")
    assert run(folder)[0] == f"missing file: {ASSIGNMENT}.ipynb (the folder holds answers.docx)"


def test_unknown_deleted_duplicated_and_edited_cells_are_noted_not_refused(folder):
    nb = notebook(cell("intro", "# 書き換えた見出し", kind="markdown"), cell("q1_answer", "answer = 14"),
                  cell("q1_answer", "answer = 15"), cell("mine", "x = 1"))
    nb.cells[1].outputs = [nbformat.v4.new_output("display_data", data={"text/html": "<script>alert(1)</script>",
                                                                        "text/plain": "x"})]
    write(folder, nb)
    reason, notes = run(folder)
    assert reason is None
    assert notes == ["graded cell q1_test was deleted: it scores 0",
                     "cell q1_answer appears 2 times: the last copy was graded",
                     "cell 2: saved outputs with text/html removed, never shown",
                     "locked cell intro was edited: it was graded with the original"]


def test_untrusted_metadata_of_the_wrong_types_does_not_crash_it(folder):
    nb = notebook()
    raw = json.loads(nbformat.writes(nb))
    raw["metadata"]["coordkit"] = ["not", "a", "dict"]
    raw["cells"].append({"cell_type": "code", "source": 5, "metadata": {"nbgrader": "q1_test"}, "outputs": 7})
    raw["cells"].append("not a cell")
    (folder / f"{ASSIGNMENT}.ipynb").write_text(json.dumps(raw), encoding="utf-8")
    assert run(folder) == (None, [])
