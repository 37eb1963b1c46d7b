"""Grading: reading a trainee's answers as data, checking them out of the trainee's reach, and the
feedback page. It owns the cohort run (engine: planning, the run's lock, workers, batched gradebook
writes), one submission in a worker (worker), the checks before and the reasons after a run
(preflight), the run's results (results), the feedback exporter and page (feedback, feedback_page),
the nbgrader plug-ins that nbgrader_config.py wires in (nbgrader_plugins: LiteralExecute,
SanitizeSubmission, ...) and the grader-side sandbox of the kernel engine (sandbox, which also runs
as the confined kernel: `python -m coordkit.grading.sandbox`). It may import coordkit.errors,
coordkit.config, coordkit.checks (the kernel-side answer reader, which stays top-level), coordkit.content
and coordkit.course (gradebook helpers) and, for the marked feedback only, coordkit.marking; nothing
here imports coordkit.cli, certification or cohort. The public API of the former coordkit.grading
module is re-exported here; nbgrader_plugins and feedback_page are not (they import nbconvert), so
import them from their modules."""

from .engine import BATCH_SECONDS, BATCH_SIZE, ENGINES, STATE_DIR, default_jobs, grade_cohort
from .preflight import deduplicate, fingerprint, preflight
from .results import CohortGradeResult, GradingError, SubmissionOutcome
from .sandbox import Limits
from .worker import grade_submission

__all__ = [
    "BATCH_SECONDS", "BATCH_SIZE", "ENGINES", "STATE_DIR", "CohortGradeResult", "GradingError", "Limits",
    "SubmissionOutcome", "deduplicate", "default_jobs", "fingerprint", "grade_cohort", "grade_submission",
    "preflight",
]
