"""What a cohort run reports: each submission's outcome and the run's summary (CohortGradeResult),
and the one error a run raises before it starts (GradingError)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..errors import CoordkitError


class GradingError(CoordkitError):
    """Grading cannot start (another run holds the course, or the course is not ready)."""


@dataclass
class SubmissionOutcome:
    assignment: str
    trainee_id: str
    status: str                      # graded | reused | quarantined
    reasons: list[str] = field(default_factory=list)
    auto_score: float | None = None  # autograded part
    auto_max: float | None = None
    seconds: float = 0.0


@dataclass
class CohortGradeResult:
    assignments: list[str]
    jobs: int = 1
    submissions: dict[str, int] = field(default_factory=dict)
    graded: dict[str, int] = field(default_factory=dict)
    reused: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, dict[str, str]] = field(default_factory=dict)   # assignment -> trainee -> reason
    outcomes: list[SubmissionOutcome] = field(default_factory=list)
    sandbox: str = ""
    seconds: float = 0.0

    @property
    def worked(self) -> int:
        return sum(1 for o in self.outcomes if o.status != "reused")

    def to_dict(self) -> dict:
        return {"assignments": self.assignments, "jobs": self.jobs, "submissions": self.submissions,
                "graded": self.graded, "reused": self.reused, "quarantined": self.quarantined,
                "sandbox": self.sandbox, "seconds": round(self.seconds, 2),
                "outcomes": [asdict(o) for o in self.outcomes]}

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame([{**asdict(o), "reasons": "; ".join(o.reasons)} for o in self.outcomes],
                            columns=["assignment", "trainee_id", "status", "reasons", "auto_score", "auto_max",
                                     "seconds"])

    def summary_lines(self) -> list[str]:
        """The summary table printed after grading, then quarantined and noted submissions."""
        width = max([len(a) for a in self.assignments] + [10])
        lines = [f"{'assignment':<{width}}  submissions  graded  reused  quarantined  mean auto score (graded now)"]
        for a in self.assignments:
            scored = [o for o in self.outcomes if o.assignment == a and o.auto_max]
            mean = (f"{100 * sum(o.auto_score for o in scored) / sum(o.auto_max for o in scored):.1f}%"
                    if scored else "-")
            lines.append(f"{a:<{width}}  {self.submissions.get(a, 0):>11}  {self.graded.get(a, 0):>6}  "
                         f"{self.reused.get(a, 0):>6}  {len(self.quarantined.get(a, {})):>11}  {mean:>28}")
        held = [o for o in self.outcomes if o.status == "quarantined"]
        if held:
            lines.append("Quarantined (not graded; the reason says what to fix, then run `coordkit grade` again):")
            lines += [f"  {o.trainee_id}  {o.assignment}  {o.reasons[0]}" for o in held]
        noted = [o for o in self.outcomes if o.status == "graded" and o.reasons]
        if noted:
            lines.append("Graded, with notes:")
            lines += [f"  {o.trainee_id}  {o.assignment}  {r}" for o in noted for r in o.reasons]
        if self.worked:
            lines.append(f"Time: {self.seconds:.1f} s for {self.worked} submission(s) with {self.jobs} job(s) "
                         f"({self.seconds / self.worked:.2f} s per submission).")
        if self.sandbox:
            lines.append(f"Sandbox: {self.sandbox}")
        return lines
