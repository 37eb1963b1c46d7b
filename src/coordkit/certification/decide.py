"""The gates of certification and of renewal, decided for one trainee or certificate from the
scores, the attendance and the personal records, against the certification rule (coordkit.rule).
Every gate is checked, so a refusal lists all the gates that failed, each with the score against the mark."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable

from ..rule import CertificationRule
from .schema import Certificate


@dataclass(frozen=True)
class GateResult:
    gate: str            # tp1_check | practice_report | tp2_attendance | completion_test | personal_record | ...
    label: str
    passed: bool
    status: str          # passed | below_mark | not_submitted | awaiting_grading | absent | no_record | ...
    detail: str          # one line: which gate, which score against which mark
    score: float | None = None
    max_score: float | None = None
    mark_percent: float | None = None

    @property
    def percent(self) -> float | None:
        return None if self.score is None or not self.max_score else 100 * self.score / self.max_score


@dataclass(frozen=True)
class Decision:
    trainee_id: str
    gates: tuple[GateResult, ...]

    @property
    def certified(self) -> bool:
        return all(g.passed for g in self.gates)

    @property
    def refusals(self) -> tuple[GateResult, ...]:
        return tuple(g for g in self.gates if not g.passed)

    def explain(self) -> str:
        if self.certified:
            return f"{self.trainee_id}: every gate passed"
        return f"{self.trainee_id}: refused; " + "; ".join(g.detail for g in self.refusals)

    def evidence(self) -> dict:
        return {g.gate: {"status": g.status, "score": g.score, "max_score": g.max_score,
                         "mark_percent": g.mark_percent} for g in self.gates}


def _assignment_gate(rows, *, gate: str, label: str, assignment: str, rule: CertificationRule,
                     mark_field: str, mark_word: str = "pass mark", refused_word: str = "",
                     student: str | None = None) -> GateResult:
    mark = getattr(rule, mark_field)
    name = f"{label} ({assignment})"
    if rows is None or len(rows) == 0:
        by = f" by student id {student}" if student else ""
        return GateResult(gate, label, False, "not_submitted",
                          f"{name}: no graded submission{by} in the gradebook; collect and autograde it "
                          f"(coordkit grade {assignment})", mark_percent=mark)
    pending = rows[rows["needs_manual_grade"]]
    if len(pending):
        ids = ", ".join(sorted(pending["grade_id"].astype(str)))
        return GateResult(gate, label, False, "awaiting_grading",
                          f"{name}: {len(pending)} answer(s) still await manual grading ({ids}); grade them "
                          "in nbgrader's formgrader, then run certify again", mark_percent=mark)
    score = float(rows["score"].fillna(0).sum())
    max_score = float(rows["max_score"].sum())
    if max_score <= 0:
        return GateResult(gate, label, False, "no_points",
                          f"{name}: the assignment has no points to score; check its item bank", mark_percent=mark)
    passed = score * 100 >= mark * max_score - 1e-9
    comparison = "at or above" if passed else f"{refused_word}below"
    text = (f"{name}: {score:g} of {max_score:g} points = {100 * score / max_score:.1f}%, {comparison} "
            f"the {mark_word} {rule.mark_label(mark_field)}")
    return GateResult(gate, label, passed, "passed" if passed else "below_mark", text,
                      score=score, max_score=max_score, mark_percent=mark)


def _attendance_gate(rows, sessions: list[str], *, rule: CertificationRule) -> GateResult:
    label, mark = "Training Program 2 attendance", rule.tp2_attendance_percent
    if not sessions:
        return GateResult("tp2_attendance", label, False, "no_record",
                          f"{label}: attendance.csv records no Training Program 2 session; record the "
                          "attendance of every session", mark_percent=mark)
    present = set(rows.loc[rows["attended"], "session"]) if rows is not None else set()
    recorded = set(rows["session"]) if rows is not None else set()
    attended = [s for s in sessions if s in present]
    absent = [s for s in sessions if s in recorded and s not in present]
    unrecorded = [s for s in sessions if s not in recorded]
    percent = 100 * len(attended) / len(sessions)
    passed = len(attended) * 100 >= mark * len(sessions) - 1e-9
    text = (f"{label}: attended {len(attended)} of {len(sessions)} sessions ({percent:.0f}%), "
            f"{'meets' if passed else 'below'} the required {rule.mark_label('tp2_attendance_percent')}")
    if absent:
        text += f"; absent: {', '.join(absent)}"
    if unrecorded:
        text += f"; no attendance record for: {', '.join(unrecorded)} (counted as absent)"
    status = "passed" if passed else ("no_record" if unrecorded and not absent else "absent")
    return GateResult("tp2_attendance", label, passed, status, text, score=float(len(attended)),
                      max_score=float(len(sessions)), mark_percent=mark)


def decide(trainee_id: str, *, scores, attendance, people, rule: CertificationRule) -> Decision:
    """Check every gate for one trainee. `scores` has the columns of export_scores (other trainees'
    rows are ignored), `attendance` and `people` those of SCHEMAS."""
    mine = scores[scores["trainee_id"] == trainee_id]
    per = {a: mine[mine["assignment"] == a] for a in (rule.tp1_check, rule.practice_report, rule.completion_test)}
    sessions = sorted(set(attendance["session"]))
    rows = attendance[attendance["trainee_id"] == trainee_id]
    gates = [
        _assignment_gate(per[rule.tp1_check], gate="tp1_check", label="TP1 confirmation test",
                         assignment=rule.tp1_check, rule=rule, mark_field="tp1_check_pass_percent"),
        _assignment_gate(per[rule.practice_report], gate="practice_report", label="practice report accepted",
                         assignment=rule.practice_report, rule=rule, mark_field="practice_report_pass_percent",
                         mark_word="acceptance mark", refused_word="not accepted, "),
        _attendance_gate(rows if len(rows) else None, sessions, rule=rule),
        _assignment_gate(per[rule.completion_test], gate="completion_test", label="completion test",
                         assignment=rule.completion_test, rule=rule, mark_field="completion_test_pass_percent"),
    ]
    if (people["trainee_id"] == trainee_id).any():
        gates.append(GateResult("personal_record", "personal record", True, "passed",
                                "personal record: on file in people.csv"))
    else:
        gates.append(GateResult("personal_record", "personal record", False, "no_record",
                                f"personal record: no row for {trainee_id} in people.csv (name, affiliation, "
                                "consent to publish); add it and run certify again"))
    return Decision(trainee_id, tuple(gates))


def decide_all(trainee_ids: Iterable[str], *, scores, attendance, people,
               rule: CertificationRule) -> list[Decision]:
    return [decide(t, scores=scores, attendance=attendance, people=people, rule=rule) for t in trainee_ids]


# --- renewal -------------------------------------------------------------------------------------

def renewal_opens_on(cert: Certificate, rule: CertificationRule) -> dt.date:
    return cert.expires_on - dt.timedelta(days=rule.renewal_opens_days)


def decide_renewal(cert: Certificate, *, scores, on: dt.date, rule: CertificationRule) -> Decision:
    """Renewal gates for one certificate: still valid and inside the renewal window, refresher test
    passed, case-study meeting assignment passed (student id in the gradebook = certificate id).
    If `scores` has a `timestamp` column (submission time), work submitted before the window
    opened, i.e. for an earlier renewal, does not count."""
    import pandas as pd

    opens = renewal_opens_on(cert, rule)
    if on > cert.expires_on:
        window = GateResult("renewal_window", "renewal window", False, "expired",
                            f"renewal window: the certificate expired on {cert.expires_on + dt.timedelta(days=1)} "
                            "and cannot be renewed; the coordinator must be certified again")
    elif on < opens:
        window = GateResult("renewal_window", "renewal window", False, "too_early",
                            f"renewal window: opens on {opens}, {rule.mark_label('renewal_opens_days')} before "
                            f"the expiry on {cert.expires_on}")
    else:
        window = GateResult("renewal_window", "renewal window", True, "passed",
                            f"renewal window: open from {opens} to {cert.expires_on}")
    mine = scores[scores["trainee_id"] == cert.certificate_id]
    if "timestamp" in mine.columns:
        stamps = pd.to_datetime(mine["timestamp"], errors="coerce", utc=True)
        mine = mine[stamps.isna() | (stamps >= pd.Timestamp(opens, tz="UTC"))]
    gates = (
        window,
        _assignment_gate(mine[mine["assignment"] == rule.renewal_refresher], gate="renewal_refresher",
                         label="renewal refresher test", assignment=rule.renewal_refresher, rule=rule,
                         mark_field="renewal_refresher_pass_percent", student=cert.certificate_id),
        _assignment_gate(mine[mine["assignment"] == rule.case_meeting], gate="case_meeting",
                         label="case-study meeting", assignment=rule.case_meeting, rule=rule,
                         mark_field="case_meeting_pass_percent", student=cert.certificate_id),
    )
    return Decision(cert.certificate_id, gates)
