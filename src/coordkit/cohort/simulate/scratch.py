"""Throwaway courses for tests, benchmarks and experiments: a course's settings in a folder of its
own, a new course released with nbgrader and a simulated cohort submitted, or a copy of a course
(configuration, gradebook, source, release and submissions)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable, Iterable

from ...config import Settings
from ...content.banks import Bank
from ...course.nbgrader import release_assignments

COURSE_FILES = ("nbgrader_config.py", "gradebook.db", "source", "release", "submitted")


def course_settings(folder: Path, *, settings: Settings) -> Settings:
    """Settings for a course root at `folder`/assignments with its own SQLite gradebook, reports and
    cohort tables (the checkout's item banks, rubrics and facts are shared)."""
    folder = Path(folder).resolve()
    course = folder / "assignments"
    return settings.with_overrides(course_root=course, db_url=f"sqlite:///{course / 'gradebook.db'}",
                                   reports_dir=folder / "reports", cohorts_dir=folder / "cohorts")


def scratch_course(folder: Path, *, settings: Settings, banks: Iterable[Bank], trainees: int, seed: int,
                   progress: Callable[[str], None] | None = None) -> Settings:
    """A new course in `folder`: the course's nbgrader_config.py, every bank released with nbgrader,
    and a simulated cohort submitted. Returns its settings (see course_settings)."""
    from .write import simulate_cohort

    temp = course_settings(folder, settings=settings)
    temp.course_root.mkdir(parents=True, exist_ok=True)
    shutil.copy(settings.course_root / "nbgrader_config.py", temp.course_root / "nbgrader_config.py")
    banks = list(banks)
    release_assignments(banks, settings=temp, progress=progress)
    simulate_cohort(banks, settings=temp, trainees=trainees, seed=seed)
    return temp


def copy_course(folder: Path, *, settings: Settings) -> Settings:
    """A copy of the course of `settings` (configuration, SQLite gradebook, source, release and
    submissions; not what grading produced) in `folder`, with its own settings."""
    temp = course_settings(folder, settings=settings)
    temp.course_root.mkdir(parents=True, exist_ok=True)
    for name in COURSE_FILES:
        src = settings.course_root / name
        if src.is_dir():
            shutil.copytree(src, temp.course_root / name, symlinks=True)
        elif src.is_file():
            shutil.copy2(src, temp.course_root / name)
    return temp
