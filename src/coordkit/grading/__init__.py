"""Grading: reading a trainee's answers as data, checking them out of the trainee's reach, and the
feedback page. It owns the cohort run (engine: planning, the run's lock, workers, batched gradebook
writes), one submission in a worker (worker), the checks before and the reasons after a run (intake:
preflight, fingerprint, deduplicate), the run's results (results), the feedback exporter and page
(feedback, feedback_page), the nbgrader plug-ins that nbgrader_config.py wires in (nbgrader_plugins:
LiteralExecute, SanitizeSubmission, ...) and the sandbox of the kernel engine (sandbox, which also
runs as the confined kernel: `python -m coordkit.grading.sandbox`). It may import coordkit.errors,
coordkit.config, coordkit.checks (the kernel-side answer reader, which stays top-level),
coordkit.content, coordkit.course (gradebook helpers) and, for the marked feedback only,
coordkit.marking; nothing here imports coordkit.cli, certification or cohort. The public API of the
former coordkit.grading module is re-exported here (loaded on first use); nbgrader_plugins and
feedback_page are not (they import nbconvert): import them from their modules."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

# Loaded on first use, so that `import coordkit.grading` stays cheap (`coordkit --help`) and the
# confined kernel (`python -m coordkit.grading.sandbox`, which imports this package first) loads
# neither the engine nor a second copy of the sandbox module (runpy warns about that).
_EXPORTS = {
    "BATCH_SECONDS": "engine", "BATCH_SIZE": "engine", "ENGINES": "engine", "STATE_DIR": "engine",
    "default_jobs": "engine", "grade_cohort": "engine",
    "deduplicate": "intake", "fingerprint": "intake", "preflight": "intake",
    "CohortGradeResult": "results", "GradingError": "results", "SubmissionOutcome": "results",
    "Limits": "sandbox",
    "grade_submission": "worker",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from .engine import BATCH_SECONDS, BATCH_SIZE, ENGINES, STATE_DIR, default_jobs, grade_cohort
    from .intake import deduplicate, fingerprint, preflight
    from .results import CohortGradeResult, GradingError, SubmissionOutcome
    from .sandbox import Limits
    from .worker import grade_submission


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
