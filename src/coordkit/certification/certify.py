"""Certification as a rule: who is certified, who is refused and why, and who may renew.

The rule lives in one place, `CertificationRule` in coordkit.rule, overridable in
pyproject.toml under [tool.coordkit.certification]. A trainee is certified when every gate is passed
(curriculum §3: TP1 confirmation test -> practical exercises -> Training Program 2 -> completion
test -> certification):

1. the TP1 comprehensive confirmation test (総合確認テスト, assignment ``tp1_check``) is passed;
2. the practice report (assignment ``practice_report``, manually graded) is accepted;
3. Training Program 2 (養成課程2, in-person group training) is attended;
4. the completion test (修了認定テスト, assignment ``completion_test``) is passed;

and the trainee's personal record (name, affiliation, consent to publish) is on file, since the
register needs it. Every gate is checked for every trainee, so a refusal lists all the gates that
failed, each with the score against the mark.

ISA has not published the format or pass mark of either test, nor the number of days of
Training Program 2 (curriculum §3.3-3.4 and Appendix A, placeholder pass mark 60-70 %): every pass
mark below is a project ASSUMPTION and is labelled as one wherever it is shown. The validity of a
certificate comes from datasets/facts.yml (``program.certificate_validity_years``, reported by the
press, not confirmed by ISA; certificates then carry a footnote saying so).

Data: scores come from the nbgrader gradebook (`coordkit.course.export_scores`), Training Program 2
attendance from ``datasets/cohorts/<cohort>/attendance.csv`` and personal records from ``people.csv``
(schemas in coordkit.certification.records.SCHEMAS). For a simulated cohort, `synthesize_records` makes both from
trainees.csv with a seed: fictional people, marked 仮名 / pseudonym.

Renewal: a coordinator renews by completing the renewal training, an assignment set of its own
graded with the same engine: ``renewal_refresher`` (a refresher test on the facts re-verified since
certification, see `refresher_coverage`) and ``case_meeting`` (a case-study meeting, 事例研究会).
In the gradebook, renewal work is filed under the certificate id as the student id (trainee ids
repeat between cohorts; certificate ids do not).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Settings
from ..errors import DatasetError
from .decide import Decision, decide_all, decide_renewal, renewal_opens_on
from .records import SCHEMAS, load_records
from .register import Certificate, default_register_url, open_register, split_fields
from ..rule import VALIDITY_FACT, CertificationRule, rule_for
def validity_notes(rule: CertificationRule, facts) -> tuple[str, ...]:
    """Footnotes for certificates when the validity period is not confirmed by ISA."""
    fact = facts[VALIDITY_FACT]
    if fact.source_kind == "ISA" and rule.validity_years == fact.value:
        return ()
    n = rule.validity_years
    return (f"有効期間（{n}年）は仮定の値です（出入国在留管理庁の一次資料では確認できていません）。",
            f"The {n}-year validity period is an assumption (not confirmed in a primary ISA text).")


# --- certifying a cohort -------------------------------------------------------------------------

@dataclass
class CertifyResult:
    cohort: str
    on: dt.date
    rule: CertificationRule
    decisions: list[Decision]
    registered: list[Certificate] = field(default_factory=list)         # newly registered by this run
    already: list[Certificate] = field(default_factory=list)            # registered by an earlier run
    differences: dict[str, list[str]] = field(default_factory=dict)     # certificate id -> fields people.csv changes
    pdfs: dict[str, Path] = field(default_factory=dict)                 # certificate id -> PDF written now
    warnings: list[str] = field(default_factory=list)
    records_written: tuple[Path, ...] = ()
    synthetic_records: bool = False
    decisions_csv: Path | None = None
    register_url: str = ""
    dry_run: bool = False
    notes: tuple[str, ...] = ()                                         # e.g. the validity is an assumption

    @property
    def certified(self) -> list[Decision]:
        return [d for d in self.decisions if d.certified]

    @property
    def refused(self) -> list[Decision]:
        return [d for d in self.decisions if not d.certified]

    def to_frame(self):
        """One row per trainee: the decision, the certificate id and each gate's status."""
        import pandas as pd

        ids = {c.trainee_id: c.certificate_id for c in (*self.registered, *self.already)}
        rows = []
        for d in self.decisions:
            row = {"trainee_id": d.trainee_id, "certified": d.certified, "certificate_id": ids.get(d.trainee_id, ""),
                   "refusals": " | ".join(g.detail for g in d.refusals)}
            row.update({f"{g.gate}_status": g.status for g in d.gates})
            row.update({f"{g.gate}_percent": (round(g.percent, 1) if g.percent is not None else None)
                        for g in d.gates if g.gate != "personal_record"})
            rows.append(row)
        return pd.DataFrame(rows)


def _scores_frame(scores, *, settings: Settings, assignments: list[str]):
    from ..cohort import read_table

    if scores is None:
        from ..course import export_scores
        return export_scores(settings=settings, assignments=assignments)
    if isinstance(scores, (str, Path)):
        table = read_table(scores, "scores")
        check_scores(table, settings=settings, assignments=assignments, source=str(scores))
        return table
    return scores


def check_scores(table, *, settings: Settings, assignments: list[str], source: str) -> None:
    """A scores table given instead of the gradebook (`certify --scores`) counts only if every row of
    the assignments that decide is an item of the item bank, with the bank's points, once per trainee,
    and the score the gradebook holds. Raises DatasetError naming the first row that is not."""
    import math

    from ..content.banks import bank_paths, load_banks
    from ..course import export_scores
    from ..content.facts import load_facts

    known = bank_paths(settings.items_dir)
    wanted = [a for a in assignments if a in known]
    banks = {b.id: b for b in load_banks(settings.items_dir, load_facts(settings.facts), wanted,
                                         rubrics_dir=settings.rubrics_dir)} if wanted else {}
    try:
        book = export_scores(settings=settings, assignments=assignments)
    except Exception as exc:  # noqa: BLE001 - any failure to read the gradebook refuses the file
        raise DatasetError(f"{source}: cannot compare it with the gradebook {settings.db_url} ({type(exc).__name__}); "
                           "scores given with --scores must match the gradebook: pass --db-url, or certify from "
                           "the gradebook (leave out --scores)") from None
    graded = {(r.trainee_id, r.assignment, r.grade_id): r.score for r in book.itertuples()}
    seen: set[tuple] = set()
    for line, row in enumerate(table.itertuples(), 2):
        if row.assignment not in assignments:
            continue
        where = f"{source}, line {line} ({row.trainee_id}, {row.assignment}, {row.grade_id})"
        bank = banks.get(row.assignment)
        if bank is None:
            raise DatasetError(f"{where}: {row.assignment} has no item bank in {settings.items_dir}; remove the row")
        item = next((i for i in bank.items if i.grade_id == row.grade_id), None)
        if item is None:
            raise DatasetError(f"{where}: {row.grade_id} is not an item of {row.assignment} "
                               f"({known[row.assignment]}); remove the row, or export the scores again")
        if float(row.max_score) != float(item.points):
            raise DatasetError(f"{where}: max_score {row.max_score:g} but the item bank gives {item.points:g} "
                               "points; export the scores again")
        key = (row.trainee_id, row.assignment, row.grade_id)
        if key in seen:
            raise DatasetError(f"{where}: the item appears twice for this trainee; keep one row")
        seen.add(key)
        score = float(row.score) if row.score == row.score and row.score is not None else math.nan
        if not math.isnan(score) and not 0 <= score <= float(item.points):
            raise DatasetError(f"{where}: score {score:g} is outside 0..{item.points:g}")
        if key not in graded:
            raise DatasetError(f"{where}: the gradebook {settings.db_url} holds no such graded item; scores given "
                               "with --scores must match the gradebook (pass its --db-url)")
        held = graded[key]
        held = math.nan if held is None or held != held else float(held)
        if not (math.isnan(held) and math.isnan(score)) and held != score:
            raise DatasetError(f"{where}: score {score:g} but the gradebook holds "
                               f"{'nothing yet' if math.isnan(held) else f'{held:g}'}; export the scores again "
                               "(coordkit export) or certify from the gradebook (leave out --scores)")


def _person(people, trainee_id: str) -> dict:
    row = people[people["trainee_id"] == trainee_id].iloc[0]
    return {k: row[k] for k in SCHEMAS["people"] if k != "trainee_id"}


def _differences(cert: Certificate, person: dict, prefecture: str) -> list[str]:
    wanted = {**person, "prefecture": prefecture,
              "specialist_fields": split_fields(person.get("specialist_fields") or "")}
    return [k for k, v in wanted.items() if getattr(cert, k) != (v.strip() if isinstance(v, str) else v)]


def certify_cohort(cohort: str | None = None, *, settings: Settings, on: dt.date | None = None,
                   rule: CertificationRule | None = None, scores=None, register_url: str | None = None,
                   pdf_dir: Path | None = None, synthetic_records: bool = False, seed: int | None = None,
                   dry_run: bool = False) -> CertifyResult:
    """Decide every trainee of a cohort from the gradebook (or `scores`: a DataFrame or CSV path)
    and the attendance records; register the newly certified (no duplicates) and write their
    certificate PDFs. With `dry_run`, decide only and write nothing."""
    from .certificate import certificate_filename, write_certificate
    from ..cohort import read_table
    from ..content.facts import load_facts

    cohort = cohort or settings.default_cohort
    on = on or dt.date.today()
    facts = load_facts(settings.facts)
    rule = rule or rule_for(settings, facts=facts)
    folder = settings.cohorts_dir / cohort
    if not folder.is_dir():
        raise DatasetError(f"{folder}: no such cohort folder; check --cohort, or run `coordkit simulate` first")
    trainees = read_table(folder / "trainees.csv", "trainees")       # prefectures checked there
    records = load_records(folder, trainees=trainees, seed=settings.default_seed if seed is None else seed,
                           synthetic=synthetic_records, write=not dry_run)
    assignments = [rule.tp1_check, rule.practice_report, rule.completion_test]
    table = _scores_frame(scores, settings=settings, assignments=assignments)
    decisions = decide_all(list(trainees["trainee_id"]), scores=table, attendance=records.attendance,
                           people=records.people, rule=rule)
    result = CertifyResult(cohort=cohort, on=on, rule=rule, decisions=decisions, records_written=records.written,
                           synthetic_records=records.synthetic, dry_run=dry_run, notes=validity_notes(rule, facts),
                           register_url=register_url or default_register_url(settings))
    in_cohort = table[table["trainee_id"].isin(set(trainees["trainee_id"]))]
    for assignment in assignments:
        if not (in_cohort["assignment"] == assignment).any():
            result.warnings.append(f"no trainee of cohort {cohort} has a graded {assignment} in the gradebook; "
                                   f"is it released, collected and autograded (coordkit grade {assignment})?")
    if dry_run:
        return result
    prefectures = dict(zip(trainees["trainee_id"], trainees["prefecture"]))
    pdf_dir = Path(pdf_dir) if pdf_dir else settings.reports_dir / "certificates"
    with open_register(result.register_url) as reg:
        for decision in result.certified:
            tid = decision.trainee_id
            person = _person(records.people, tid)
            cert = reg.find(cohort, tid)
            if cert is None:
                cert = reg.add(cohort=cohort, trainee_id=tid, prefecture=prefectures[tid], certified_on=on,
                               validity_years=rule.validity_years,
                               evidence={"gates": decision.evidence(), "synthetic_records": records.synthetic},
                               **person)
                result.registered.append(cert)
            else:
                result.already.append(cert)
                diff = _differences(cert, person, prefectures[tid])
                if diff:
                    result.differences[cert.certificate_id] = diff
            if not cert.renewals and not (pdf_dir / certificate_filename(cert)).is_file():   # new, or lost
                result.pdfs[cert.certificate_id] = write_certificate(cert, out_dir=pdf_dir,
                                                                     specimen=records.synthetic, notes=result.notes)
    out = settings.reports_dir / cohort / "certification.csv"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        from ..course.export import escape_formulas

        escape_formulas(result.to_frame()).to_csv(out, index=False, lineterminator="\n")
    except OSError as exc:
        from ..errors import OutputError
        raise OutputError(f"cannot write {out} ({exc.strerror}); choose a writable --reports folder") from None
    result.decisions_csv = out
    return result


@dataclass
class RenewResult:
    on: dt.date
    decisions: list[Decision]                                   # certificates inside their renewal window
    renewed: list[Certificate] = field(default_factory=list)
    pdfs: dict[str, Path] = field(default_factory=dict)
    not_due: int = 0                                            # valid certificates whose window is not open
    dry_run: bool = False


def renew_certificates(*, settings: Settings, on: dt.date | None = None, rule: CertificationRule | None = None,
                       scores=None, register_url: str | None = None, pdf_dir: Path | None = None,
                       dry_run: bool = False) -> RenewResult:
    """Renew every certificate whose renewal window is open and whose renewal training is passed;
    explain the others. Each renewal adds the validity period to the old expiry, is recorded in the
    register's history and gets a new certificate PDF (…_renewal<N>.pdf)."""
    from .certificate import write_certificate
    from ..content.facts import load_facts

    on = on or dt.date.today()
    facts = load_facts(settings.facts)
    rule = rule or rule_for(settings, facts=facts)
    url = register_url or default_register_url(settings)
    pdf_dir = Path(pdf_dir) if pdf_dir else settings.reports_dir / "certificates"
    result = RenewResult(on=on, decisions=[], dry_run=dry_run)
    with open_register(url, create=False) as reg:
        certificates = reg.certificates()
        open_now = [c for c in certificates if renewal_opens_on(c, rule) <= on <= c.expires_on]
        result.not_due = sum(1 for c in certificates if on < renewal_opens_on(c, rule))
        if not open_now:
            return result
        table = _scores_frame(scores, settings=settings, assignments=[rule.renewal_refresher, rule.case_meeting])
        for cert in open_now:
            decision = decide_renewal(cert, scores=table, on=on, rule=rule)
            result.decisions.append(decision)
            if decision.certified and not dry_run:
                renewed = reg.renew(cert.certificate_id, on=on, validity_years=rule.validity_years,
                                    evidence={"gates": decision.evidence()})
                result.renewed.append(renewed)
                first = reg.history(cert.certificate_id)[0].details.get("evidence", {})
                result.pdfs[renewed.certificate_id] = write_certificate(
                    renewed, out_dir=pdf_dir, issued_on=on, specimen=bool(first.get("synthetic_records")),
                    notes=validity_notes(rule, facts))
    return result


# --- the refresher test and the facts that changed -------------------------------------------

@dataclass(frozen=True)
class RefresherCoverage:
    since: dt.date
    items: dict[str, tuple[str, ...]]      # grade_id -> facts its answer is computed from
    covered: tuple[str, ...]               # facts re-verified after `since` that an item tests
    uncovered: tuple[str, ...]             # facts re-verified after `since` that no item tests


def refresher_coverage(bank_path: Path | str, *, facts, since: dt.date,
                       exclude_prefixes: tuple[str, ...] = ("program.", "population.")) -> RefresherCoverage:
    """Which facts re-verified after `since` (e.g. the certification date of the coordinators who
    renew) the refresher bank tests, and which it does not yet. A fact's last check (`verified`, or the
    date of `checked_against`) moves whenever it is checked or changed, so this errs on the side of
    listing too many."""
    from ..content.banks import load_bank

    bank = load_bank(bank_path, facts)
    items = {i.grade_id: tuple(sorted(set(i.facts_used))) for i in bank.items}
    tested = {f for used in items.values() for f in used}
    changed = sorted(f.id for f in facts if f.last_checked > since and not f.id.startswith(exclude_prefixes))
    return RefresherCoverage(since=since, items=items, covered=tuple(f for f in changed if f in tested),
                             uncovered=tuple(f for f in changed if f not in tested))
