"""The course: nbgrader's course folder and what runs in it. This package owns running the real
nbgrader commands (nbgrader: release, autograde, feedback, the gradebook's scores, and the step
folders, named only through nbgrader's own CourseDirectory), the course calendar and its late penalty (calendar), the exchange that locks
collected submissions (exchange), a course and accounts per cohort on JupyterHub (hub), and the
export of grades to Moodle (export, moodle). It may import coordkit.errors, coordkit.config and
coordkit.database, and the content package (item banks); nothing here imports the command line,
the cohort package, grading, marking or certification (they import this package). Throwaway courses
for tests and benchmarks, with a simulated cohort submitted, live in coordkit.cohort.simulate.scratch.

The old module paths coordkit.course (this package), coordkit.course_calendar, coordkit.exchange,
coordkit.hub, coordkit.export and coordkit.moodle keep importing (see coordkit._legacy)."""

from .nbgrader import (GradeResult, ReleaseResult, apply_submission_state, assignment_definition, autograde,
                       course_id, create_gradebook, export_scores, generate_feedback, load_nbgrader_config, log_dir,
                       release_assignments, run_nbgrader, step_path, stock_autograde_steps, submission_state,
                       submitted_students, tool_env)

__all__ = [
    "GradeResult", "ReleaseResult", "apply_submission_state", "assignment_definition", "autograde", "course_id",
    "create_gradebook", "export_scores", "generate_feedback", "load_nbgrader_config", "log_dir",
    "release_assignments", "run_nbgrader", "step_path", "stock_autograde_steps", "submission_state",
    "submitted_students", "tool_env",
]
