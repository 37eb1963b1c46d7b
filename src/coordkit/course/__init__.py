"""The course: nbgrader's course folder and what runs in it. This package owns running the real
nbgrader commands (nbgrader: release, autograde, feedback, the gradebook's scores, and the step
folders, named only through nbgrader's own CourseDirectory), throwaway courses for tests and
benchmarks (folders), the course calendar and its late penalty (calendar), the exchange that locks
collected submissions (exchange), a course and accounts per cohort on JupyterHub (hub), and the
export of grades to Moodle (export, moodle). It may import coordkit.errors, coordkit.config and
coordkit.database, the content package (item banks) and, for a simulated cohort in a throwaway
course only, the cohort simulation; nothing here imports the command line, grading, marking or
certification (they import this package).

The old module paths coordkit.course (this package), coordkit.course_calendar, coordkit.exchange,
coordkit.hub, coordkit.export and coordkit.moodle keep importing (see coordkit._legacy)."""

from .folders import COURSE_FILES, copy_course, course_settings, scratch_course
from .nbgrader import (GradeResult, ReleaseResult, apply_submission_state, assignment_definition, autograde,
                       course_id, create_gradebook, export_scores, generate_feedback, load_nbgrader_config, log_dir,
                       release_assignments, run_nbgrader, step_path, stock_autograde_steps, submission_state,
                       submitted_students, tool_env)

__all__ = [
    "COURSE_FILES", "copy_course", "course_settings", "scratch_course",
    "GradeResult", "ReleaseResult", "apply_submission_state", "assignment_definition", "autograde", "course_id",
    "create_gradebook", "export_scores", "generate_feedback", "load_nbgrader_config", "log_dir",
    "release_assignments", "run_nbgrader", "step_path", "stock_autograde_steps", "submission_state",
    "submitted_students", "tool_env",
]
