"""Rubrics for manually graded answers (coordkit.content.rubrics): the schema, the link to the bank, and how
a rubric reaches graders (source notebook) and trainees (feedback, without the model answer)."""

from __future__ import annotations

import nbformat
import pytest

from coordkit.content.banks import load_bank
from coordkit.content.notebooks import build_notebook
from coordkit.content.rubrics import (BEGIN, END, check_rubric, extract_markdown, load_rubric, load_rubrics,
                                      render_markdown)
from coordkit.errors import AssignmentError
from coordkit.grading.nbgrader_plugins import FeedbackRedaction, append_rubrics, source_rubrics

GOOD = """\
assignment: cs99_test
cells:
  q6_issues:
    criteria:
      - id: coverage
        ja: 課題を分けている。
        en: Issues are separated.
        levels:
          - {points: 0, ja: なし。, en: None.}
          - {points: 1, ja: 一部。, en: Some.}
          - {points: 2, ja: すべて。, en: All.}
      - id: priority
        ja: 順番に理由がある。
        en: The order has reasons.
        levels:
          - {points: 0, ja: なし。, en: None.}
          - {points: 2, ja: ある。, en: Present.}
"""


def _write(tmp_path, text, name="cs99_test"):
    path = tmp_path / f"{name}.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_well_formed_rubric_loads_with_its_points(tmp_path):
    rubric = load_rubric(_write(tmp_path, GOOD))
    cell = rubric.cell("q6_issues")
    assert [c.id for c in cell.criteria] == ["coverage", "priority"]
    assert cell.max_points == 4
    frame = rubric.to_frame()
    assert len(frame) == 5 and set(frame["grade_id"]) == {"q6_issues"}


@pytest.mark.parametrize("change, message", [
    (("assignment: cs99_test", "assignment: cs01_job_loss"), "must equal the file name"),
    (("      - id: priority", "      - id: Priority"), "must be snake_case"),
    (("      - id: priority", "      - id: coverage"), "criterion ids must be unique"),
    (("{points: 0, ja: なし。, en: None.}\n          - {points: 1", "{points: 1, ja: なし。, en: None.}\n          - {points: 1"),
     "lowest level must be worth 0"),
    (("{points: 2, ja: すべて。", "{points: 1, ja: すべて。"), "from lowest to highest"),
    (("{points: 2, ja: ある。, en: Present.}", "{points: 2, ja: ある。}"), "exactly the keys points, ja, en"),
    (("        en: The order has reasons.\n", ""), "missing 'en'"),
    (("          - {points: 0, ja: なし。, en: None.}\n          - {points: 2, ja: ある。, en: Present.}\n", ""),
     "at least two levels"),
    (("{points: 1, ja: 一部。", "{points: -1, ja: 一部。"), "points must be a number >= 0"),
])
def test_schema_errors_name_the_file_cell_criterion_and_fix(tmp_path, change, message):
    assert change[0] in GOOD
    path = _write(tmp_path, GOOD.replace(*change, 1))
    with pytest.raises(AssignmentError, match=message) as info:
        load_rubric(path)
    assert str(path) in str(info.value)


def test_an_unquoted_comma_in_a_flow_level_is_caught(tmp_path):
    # the skeleton's rubric had `{points: 1, en: Two or three issues, or domains mixed.}`: YAML reads
    # the text after the comma as a key, so a descriptor is silently cut; the schema refuses it
    text = GOOD.replace("{points: 1, ja: 一部。, en: Some.}", "{points: 1, ja: 一部。, en: Some, or most.}")
    with pytest.raises(AssignmentError, match="exactly the keys points, ja, en"):
        load_rubric(_write(tmp_path, text))


def test_the_rubric_must_fit_the_bank(tmp_path):
    rubric = load_rubric(_write(tmp_path, GOOD))
    check_rubric(rubric, [("q6_issues", 4.0)], bank_path=tmp_path / "bank.yml")
    with pytest.raises(AssignmentError, match="add up to 4 points but .* gives the item 5"):
        check_rubric(rubric, [("q6_issues", 5.0)], bank_path=tmp_path / "bank.yml")
    with pytest.raises(AssignmentError, match="no rubric for cell 'q7_plan'"):
        check_rubric(rubric, [("q6_issues", 4.0), ("q7_plan", 2.0)], bank_path=tmp_path / "bank.yml")
    with pytest.raises(AssignmentError, match="q6_issues are not manually graded items"):
        check_rubric(rubric, [], bank_path=tmp_path / "bank.yml")


def test_every_rubric_in_the_repository_is_well_formed_and_used(settings, facts):
    rubrics = load_rubrics(settings.rubrics_dir)
    assert rubrics, "no rubrics found"
    for assignment in rubrics:
        bank = load_bank(settings.items_dir / f"{assignment}.yml", facts, rubrics_dir=settings.rubrics_dir)
        assert bank.rubric is not None and set(bank.rubric.cells) == {i.grade_id for i in bank.items if not i.auto}


def test_rendering_shows_every_level_in_both_languages_and_round_trips(tmp_path):
    cell = load_rubric(_write(tmp_path, GOOD)).cell("q6_issues")
    text = render_markdown(cell)
    assert text.startswith(BEGIN) and text.endswith(END)
    for criterion in cell.criteria:
        for level in criterion.levels:
            assert level.ja in text and level.en in text
    assert extract_markdown(f"model answer\n\n{text}\n") == text
    assert extract_markdown("no rubric here") is None


# --- the rubric in the feedback ---------------------------------------------------------------------

@pytest.fixture()
def cs01(settings, facts):
    return load_bank(settings.items_dir / "cs01_job_loss.yml", facts, rubrics_dir=settings.rubrics_dir)


def _trainee_copy(source_nb):
    """What an autograded submission looks like: manual cells hold the trainee's own text."""
    nb = nbformat.from_dict(nbformat.reads(nbformat.writes(source_nb), as_version=4))
    for cell in nb.cells:
        meta = cell.metadata["nbgrader"]
        if meta["grade"] and meta["solution"]:
            cell.source = "わたしの回答です。"
    return nb


def test_feedback_gets_each_manual_answers_rubric_but_no_model_answer(cs01, tmp_path):
    source = build_notebook(cs01)
    path = tmp_path / "source.ipynb"
    nbformat.write(source, path)
    rubrics = source_rubrics(str(path))
    manual = [i for i in cs01.items if not i.auto]
    assert set(rubrics) == {i.grade_id for i in manual}

    feedback = append_rubrics(_trainee_copy(source), rubrics)
    text = "\n".join(c.source for c in feedback.cells)
    for item in manual:
        assert cs01.rubric.cell(item.grade_id).criteria[0].en in text
        assert item.model_answer.splitlines()[0] not in text
    added = [c for c in feedback.cells if "coordkit" in c.metadata]
    assert len(added) == len(manual)
    # each rubric follows its own answer
    for n, cell in enumerate(feedback.cells):
        if "coordkit" in cell.metadata:
            assert feedback.cells[n - 1].metadata["nbgrader"]["grade_id"] == cell.metadata["coordkit"]["rubric_for"]


def test_the_feedback_preprocessor_reads_the_rubrics_from_the_course_source(cs01, tmp_path):
    from traitlets.config import Config

    source = build_notebook(cs01)
    folder = tmp_path / "source" / cs01.id
    folder.mkdir(parents=True)
    nbformat.write(source, folder / f"{cs01.id}.ipynb")
    config = Config()
    config.CourseDirectory.root = str(tmp_path)
    resources = {"nbgrader": {"assignment": cs01.id, "notebook": cs01.id, "student": "tr001"}}
    nb, _ = FeedbackRedaction(config=config).preprocess(_trainee_copy(source), resources)
    text = "\n".join(c.source for c in nb.cells)
    assert text.count(BEGIN) == len([i for i in cs01.items if not i.auto])
    assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text
    assert cs01.item("q1_notice_deadline").key not in text


def test_failed_tests_and_warnings_are_neutral_in_feedback():
    from coordkit.grading.nbgrader_plugins import NOT_CORRECT, redact_outputs

    outputs = [
        nbformat.v4.new_output("stream", name="stderr", text="UserWarning: something"),
        nbformat.v4.new_output("error", ename="AssertionError", evalue="",
                               traceback=['assert _a == "2025-04-14"']),
        nbformat.v4.new_output("error", ename="AnswerFormatError", evalue="【q1】まだ答えが書かれていません。",
                               traceback=["Traceback ...", "AnswerFormatError: ..."]),
    ]
    cleaned = redact_outputs(outputs)
    assert len(cleaned) == 2
    assert cleaned[0]["traceback"] == [NOT_CORRECT]
    assert "2025-04-14" not in str(cleaned)
    assert cleaned[1]["traceback"] == ["AnswerFormatError: 【q1】まだ答えが書かれていません。"]
