"""Cohort grading: autograde and feedback for every submission of the given assignments, with a
progress bar and a summary. Scores come from the real nbgrader autograde and gradebook."""

from __future__ import annotations

from dataclasses import dataclass, field

from .config import Settings
from .course import autograde, generate_feedback, submitted_students


@dataclass
class CohortGradeResult:
    assignments: list[str]
    graded: dict[str, int] = field(default_factory=dict)
    reused: dict[str, int] = field(default_factory=dict)
    submissions: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"assignments": self.assignments, "submissions": self.submissions, "graded": self.graded,
                "reused": self.reused}


def grade_cohort(assignments: list[str], *, settings: Settings, show_progress: bool = True) -> CohortGradeResult:
    """Autograde (reusing submissions graded and not resubmitted since) and generate feedback."""
    from tqdm import tqdm

    result = CohortGradeResult(assignments=list(assignments))
    total = sum(len(submitted_students(settings, a)) for a in assignments)
    with tqdm(total=total, desc="Grading", unit="submission", disable=not show_progress,
              dynamic_ncols=True) as bar:
        for assignment in assignments:
            result.submissions[assignment] = len(submitted_students(settings, assignment))
            bar.set_postfix_str(assignment)
            graded = autograde(assignment, settings=settings, tick=lambda _s: bar.update(1))
            result.graded[assignment] = len(graded.graded)
            result.reused[assignment] = len(graded.reused)
            generate_feedback(assignment, settings=settings)
    return result
