"""The course calendar: due dates per assignment and cohort reach nbgrader's gradebook, and nbgrader's
own late-penalty step (AssignLatePenalties, configured by assignments/nbgrader_config.py) takes off
what graders/calendar.yml says."""

from __future__ import annotations

import datetime as dt

import nbformat
import pytest

from coordkit.course.calendar import CalendarLatePenalty, LatePenalty, apply_calendar, load_calendar
from coordkit.errors import ConfigError

CALENDAR = """
timezone: Asia/Tokyo
late_penalty: {method: per_day, points_per_day: 1, max_fraction: 0.5, grace_minutes: 15}
cohorts:
  default: {cs01_demo: 2025-10-03 18:00, cs02_demo: 2025-10-24 18:00}
  fy2026: {cs01_demo: 2026-10-02 18:00}
"""


@pytest.fixture()
def course(tmp_path, settings):
    (tmp_path / "calendar.yml").write_text(CALENDAR, encoding="utf-8")
    root = tmp_path / "assignments"
    root.mkdir()
    return settings.with_overrides(course_root=root, db_url=f"sqlite:///{root / 'gradebook.db'}",
                                   calendar=tmp_path / "calendar.yml", reports_dir=tmp_path / "reports")


def test_the_repository_calendar_is_valid_and_names_only_real_assignments(settings):
    calendar = load_calendar(settings.calendar)
    banks = {p.stem for p in settings.items_dir.glob("*.yml")}
    for cohort, dates in calendar.cohorts.items():
        assert set(dates) <= banks, f"{settings.calendar}: cohorts.{cohort} names unknown assignments {set(dates) - banks}"
    assert calendar.late_penalty.method in ("none", "zero", "per_day")


def test_cohort_dates_override_the_default_and_are_stored_as_utc(course):
    calendar = load_calendar(course.calendar)
    assert calendar.nbgrader_due_dates("fy2026") == {"cs01_demo": dt.datetime(2026, 10, 2, 9, 0),
                                                     "cs02_demo": dt.datetime(2025, 10, 24, 9, 0)}


@pytest.mark.parametrize("bad, message", [
    ("cohorts: {default: {cs01_demo: 3 October}}", r"cohorts.default.cs01_demo: '3 October' is not a date"),
    ("late_penalty: {method: half}\ncohorts: {default: {}}", r"late_penalty.method must be one of none, zero, per_day"),
    ("late_penalty: {method: per_day, points_per_day: -1}\ncohorts: {default: {}}", r"points_per_day must be a number"),
    ("timezone: Mars/Olympus\ncohorts: {default: {}}", r"timezone 'Mars/Olympus'"),
    ("due: {}", r"expected the keys"),
])
def test_a_malformed_calendar_names_the_key(tmp_path, bad, message):
    path = tmp_path / "calendar.yml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_calendar(path)


def test_the_penalty_rule():
    rule = LatePenalty("per_day", points_per_day=1, max_fraction=0.5, grace_minutes=15)
    assert rule.penalty(6, 10 * 60) == 0                 # within the grace period
    assert rule.penalty(6, 16 * 60) == 1                 # a started day
    assert rule.penalty(6, 2 * 86400 + 3600) == 2 + 1    # three started days (after the grace period)
    assert rule.penalty(6, 30 * 86400) == 3              # never more than half the score
    assert LatePenalty("zero").penalty(4, 1) == 4 and LatePenalty("none").penalty(4, 10 ** 6) == 0


def test_due_dates_reach_the_gradebook_and_nbgraders_late_step_applies_the_penalty(course):
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import AssignLatePenalties

    from coordkit.course import load_nbgrader_config

    result = apply_calendar(settings=course, cohort="fy2026", assignments=["cs01_demo", "cs03_unknown"])
    assert result.set == {"cs01_demo": dt.datetime(2026, 10, 2, 9, 0)} and result.missing == ["cs03_unknown"]
    with Gradebook(course.db_url, "default_course") as gb:
        assert gb.find_assignment("cs01_demo").duedate == dt.datetime(2026, 10, 2, 9, 0)
        gb.add_notebook("cs01_demo", "cs01_demo")
        gb.add_grade_cell("q1_date", "cs01_demo", "cs01_demo", max_score=6, cell_type="code")
        gb.add_student("tr001")
        gb.add_submission("cs01_demo", "tr001", timestamp=dt.datetime(2026, 10, 4, 9, 30))   # 2 days 30 min late
        grade = gb.find_submission("cs01_demo", "tr001").notebooks[0].grades[0]
        grade.auto_score, grade.needs_manual_grade = 6, False
        gb.db.commit()

    import os
    os.environ["COORDKIT_CALENDAR"] = str(course.calendar)
    try:
        config = load_nbgrader_config(course.root / "assignments")        # the course's nbgrader_config.py
    finally:
        del os.environ["COORDKIT_CALENDAR"]
    assert config.AssignLatePenalties.plugin_class is CalendarLatePenalty
    step = AssignLatePenalties(config=config)
    step.preprocess(nbformat.v4.new_notebook(), {"nbgrader": {
        "notebook": "cs01_demo", "assignment": "cs01_demo", "student": "tr001", "db_url": course.db_url}})
    with Gradebook(course.db_url, "default_course") as gb:
        assert gb.find_submission_notebook("cs01_demo", "cs01_demo", "tr001").late_submission_penalty == 3.0
