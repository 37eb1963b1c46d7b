"""The final-mark rule of marking (pure: no database), and the old `coordkit.marking.core` path that
cli_mark, demo, feedback_page and evaluator notebooks import, after marking was split."""

import importlib

import pytest

from coordkit.marking.marks import Mark, final_mark


def _mark(marker, role, score, at):
    return Mark("A1", marker, role, {"c1": score}, score, "", "", at, "api", "sha")


@pytest.mark.parametrize("marks, slots, expected", [
    ([], {1: "sato"}, ("unmarked", None)),
    ([_mark("sato", "first", 3, "1")], {1: "sato"}, ("final", 3)),
    ([_mark("sato", "first", 3, "1"), _mark("sato", "first", 2, "2")], {1: "sato"}, ("final", 2)),   # latest wins
    ([_mark("sato", "first", 3, "1")], {1: "sato", 2: "kato"}, ("awaiting second marker", None)),
    ([_mark("sato", "first", 3, "1"), _mark("kato", "second", 4, "2")], {1: "sato", 2: "kato"}, ("final", 3)),
    ([_mark("sato", "first", 3, "1"), _mark("kato", "second", 5, "2")], {1: "sato", 2: "kato"}, ("moderation", None)),
    ([_mark("sato", "first", 3, "1"), _mark("kato", "second", 5, "2"), _mark("ito", "moderator", 4, "3")],
     {1: "sato", 2: "kato"}, ("moderated", 4)),
])
def test_final_mark_follows_the_rule_first_marker_within_margin_moderator_overrides(marks, slots, expected):
    status, final = final_mark(marks, slots, margin_points=1.0)
    assert (status, final.score if final else None) == expected


OLD_NAMES = ["MARGIN", "ROLES", "Allocation", "Answer", "Mark", "MarkingError", "QueueEntry", "Saved", "_course",
             "_marks", "_marks_of", "_notebook_path", "_publish", "_slots", "_slots_of", "allocate", "allocation_table",
             "answer_id", "answer_status", "answer_text", "answers", "engine", "feedback_text", "final_mark",
             "find_answer", "find_answers", "history", "manual_items", "margin", "mark_entry", "mark_table",
             "marks_frame", "moderate", "moderation_queue", "queue", "record_many", "rubric_cell", "save_mark", "sha",
             "validate_levels"]


def test_the_old_core_path_still_gives_every_name_as_the_same_object():
    core = importlib.import_module("coordkit.marking.core")
    marking = importlib.import_module("coordkit.marking")
    missing = [n for n in OLD_NAMES if not hasattr(core, n)]
    assert not missing, missing
    assert core.save_mark is marking.save_mark and core.allocation_table is marking.store.allocation_table


def test_the_rubric_of_a_written_answer_is_found_and_a_level_off_the_rubric_is_refused(settings):
    from coordkit.marking import MarkingError, rubric_cell, validate_levels

    cell = rubric_cell(settings, "cs01_job_loss", "q6_issues")
    top = {c.id: c.levels[-1].points for c in cell.criteria}
    assert cell.criteria and validate_levels(cell, top) == sum(c.max_points for c in cell.criteria)
    crit = cell.criteria[0]
    with pytest.raises(MarkingError, match=f"not in the rubric for '{crit.id}'"):
        validate_levels(cell, {**top, crit.id: crit.max_points + 0.5})
