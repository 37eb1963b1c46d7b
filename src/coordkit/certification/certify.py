"""Certification as a rule: who is certified, who is refused and why, and who may renew.

The rule lives in one place, `CertificationRule` in coordkit.rule (re-exported here), overridable in
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
(schemas in SCHEMAS below). For a simulated cohort, `synthesize_records` makes both from
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
from typing import Any, Iterable

from ..config import Settings
from ..errors import DatasetError
from .register import Certificate, default_register_url, open_register, split_fields

# The rule itself lives in coordkit.rule (light, so that config can check it); re-exported here.
from .rule import (DEFAULT_PASS_PERCENT, VALIDITY_FACT, CertificationRule, default_rule,  # noqa: E402,F401
                   rule_for)


def validity_notes(rule: CertificationRule, facts) -> tuple[str, ...]:
    """Footnotes for certificates when the validity period is not confirmed by ISA."""
    fact = facts[VALIDITY_FACT]
    if fact.source_kind == "ISA" and rule.validity_years == fact.value:
        return ()
    n = rule.validity_years
    return (f"有効期間（{n}年）は仮定の値です（出入国在留管理庁の一次資料では確認できていません）。",
            f"The {n}-year validity period is an assumption (not confirmed in a primary ISA text).")


# --- records: attendance and personal details ------------------------------------------------

SCHEMAS = {  # for coordkit.cohort.read_table(..., schemas=SCHEMAS)
    "attendance": {"trainee_id": ("id", True), "session": ("str", True), "attended": ("bool", True)},
    "people": {"trainee_id": ("id", True), "name_ja": ("str", True), "name_en": ("str", True),
               "affiliation": ("str", True), "specialist_fields": ("str", False),
               "publish_name": ("bool", True), "publish_affiliation": ("bool", True),
               "publish_specialist_fields": ("bool", True)},
}
SYNTHETIC_MARKER = ".coordkit-synthetic-records"
SYNTHETIC_TP2_SESSIONS = ("TP2-day1", "TP2-day2")   # Appendix A placeholder: 2 days [NOT CONFIRMED]

_JA_SURNAMES = [("佐藤", "SATO"), ("鈴木", "SUZUKI"), ("高橋", "TAKAHASHI"), ("田中", "TANAKA"),
                ("伊藤", "ITO"), ("渡辺", "WATANABE"), ("山本", "YAMAMOTO"), ("中村", "NAKAMURA"),
                ("小林", "KOBAYASHI"), ("加藤", "KATO"), ("吉田", "YOSHIDA"), ("山田", "YAMADA")]
_JA_GIVEN = [("花子", "Hanako"), ("太郎", "Taro"), ("美咲", "Misaki"), ("健太", "Kenta"), ("陽子", "Yoko"),
             ("翔", "Sho"), ("由美", "Yumi"), ("大輔", "Daisuke"), ("恵", "Megumi"), ("誠", "Makoto")]
_OTHER_NAMES = {  # first language -> (family names, given names), katakana and Latin letters
    "ポルトガル語": ([("シルバ", "SILVA"), ("サントス", "SANTOS")], [("アナ", "Ana"), ("ルーカス", "Lucas")]),
    "中国語": ([("王", "WANG"), ("李", "LI")], [("芳", "Fang"), ("偉", "Wei")]),
    "ベトナム語": ([("グエン", "NGUYEN"), ("チャン", "TRAN")], [("ティ・ラン", "Thi Lan"), ("ヴァン・ナム", "Van Nam")]),
    "英語": ([("スミス", "SMITH"), ("ブラウン", "BROWN")], [("エミリー", "Emily"), ("ジェームズ", "James")]),
    "スペイン語": ([("ガルシア", "GARCIA"), ("ロペス", "LOPEZ")], [("マリア", "Maria"), ("カルロス", "Carlos")]),
    "タガログ語": ([("レイエス", "REYES"), ("クルス", "CRUZ")], [("ジョイ", "Joy"), ("マーク", "Mark")]),
    "韓国語": ([("キム", "KIM"), ("パク", "PARK")], [("ミンス", "Minsu"), ("ジヨン", "Jiyoung")]),
    "ネパール語": ([("グルン", "GURUNG"), ("タパ", "THAPA")], [("ラム", "Ram"), ("シタ", "Sita")]),
}
_AFFILIATIONS = {  # org_type -> fictional affiliation (架空); {pref} the prefecture, {x} a letter
    "municipality": "{x}市 多文化共生課（架空）",
    "designated_city": "{x}市 国際交流センター（架空）",
    "prefecture": "{pref} 外国人総合相談センター（架空）",
    "international_association": "{pref}国際交流協会（架空）",
    "national_government": "出入国在留管理局 {x}出張所 相談窓口（架空）",
}
_SPECIALIST_FIELDS = ["在留手続", "労働", "医療・健康保険", "年金・社会保険", "税", "出産・子育て", "教育",
                      "家族・婚姻・国籍", "DV・虐待", "住まい", "生活困窮・福祉", "防災"]


@dataclass(frozen=True)
class Records:
    attendance: Any                 # DataFrame: trainee_id, session, attended
    people: Any                     # DataFrame: see SCHEMAS["people"]
    synthetic: bool                 # made by synthesize_records (fictional people)
    written: tuple[Path, ...] = ()  # files this call wrote


def synthesize_records(trainees, *, seed: int, enrolment=None) -> tuple[Any, Any]:
    """Fictional Training Program 2 attendance and personal records for a simulated cohort,
    from its trainees table and a seed: names marked （仮名）/ (pseudonym), affiliations （架空）.
    With the cohort's `enrolment` table, attendance agrees with its tp2 stage (attended: every
    session; absent: the last session missed; no tp2 row: never reached TP2, no attendance rows)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng([seed, 7])
    tp2 = None
    if enrolment is not None:
        rows = enrolment[enrolment["stage"] == "tp2"]
        tp2 = dict(zip(rows["trainee_id"], rows["status"]))
    attendance, people = [], []
    for row in trainees.itertuples(index=False):
        for n, session in enumerate(SYNTHETIC_TP2_SESSIONS, start=1):
            if tp2 is None:
                present = bool(rng.random() < 0.95)
            elif row.trainee_id not in tp2:
                continue
            else:
                present = tp2[row.trainee_id] == "attended" or n < len(SYNTHETIC_TP2_SESSIONS)
            attendance.append({"trainee_id": row.trainee_id, "session": session, "attended": present})
        families, givens = _OTHER_NAMES.get(row.first_language, (_JA_SURNAMES, _JA_GIVEN))
        (fam_ja, fam_en), (giv_ja, giv_en) = (families[int(rng.integers(len(families)))],
                                              givens[int(rng.integers(len(givens)))])
        template = _AFFILIATIONS.get(row.org_type, "{x}相談窓口（架空）")
        fields = rng.choice(len(_SPECIALIST_FIELDS), size=int(rng.integers(1, 3)), replace=False)
        people.append({
            "trainee_id": row.trainee_id, "name_ja": f"{fam_ja} {giv_ja}（仮名）",
            "name_en": f"{fam_en} {giv_en} (pseudonym)",
            "affiliation": template.format(pref=row.prefecture, x="ABCDEFGH"[int(rng.integers(8))]),
            "specialist_fields": ";".join(_SPECIALIST_FIELDS[i] for i in sorted(fields)),
            "publish_name": bool(rng.random() < 0.4), "publish_affiliation": bool(rng.random() < 0.8),
            "publish_specialist_fields": bool(rng.random() < 0.6)})
    return (pd.DataFrame(attendance, columns=list(SCHEMAS["attendance"])),
            pd.DataFrame(people, columns=list(SCHEMAS["people"])))


def _check_ids(frame, path: Path, ids: set[str], *, unique_by: list[str]) -> None:
    unknown = ~frame["trainee_id"].isin(ids)
    if unknown.any():
        idx = int(unknown.idxmax())
        raise DatasetError(f"{path} row {idx + 2} column 'trainee_id': {frame['trainee_id'][idx]!r} is not in "
                           "trainees.csv; add the trainee or fix the id")
    dup = frame.duplicated(unique_by)
    if dup.any():
        idx = int(dup.idxmax())
        key = ", ".join(f"{c} {frame[c][idx]!r}" for c in unique_by)
        raise DatasetError(f"{path} row {idx + 2}: {key} appears twice; keep one row")


def load_records(folder: Path | str, *, trainees, seed: int, synthetic: bool = False,
                 write: bool = True) -> Records:
    """attendance.csv and people.csv of a cohort, validated (errors name file, row and column).
    When they are missing and `synthetic` is set, fictional ones are made from trainees.csv and
    (with `write`) saved next to it, never over existing files."""
    from ..cohort import read_table

    folder = Path(folder)
    paths = {t: folder / f"{t}.csv" for t in SCHEMAS}
    missing = [p for p in paths.values() if not p.is_file()]
    if missing and not synthetic:
        raise DatasetError(f"{missing[0]}: file not found; record the cohort's "
                           f"{missing[0].stem} there (columns {', '.join(SCHEMAS[missing[0].stem])}), "
                           "or for a simulated cohort pass --synthetic-records to make fictional ones")
    made, written = {}, []
    if missing:
        enrolment = folder / "enrolment.csv"
        made = dict(zip(SCHEMAS, synthesize_records(
            trainees, seed=seed, enrolment=read_table(enrolment, "enrolment") if enrolment.is_file() else None)))
        if write:
            try:
                for table, path in paths.items():
                    if not path.is_file():
                        made[table].to_csv(path, index=False, lineterminator="\n")
                        written.append(path)
                (folder / SYNTHETIC_MARKER).touch()
            except OSError as exc:
                from ..errors import OutputError
                raise OutputError(f"cannot write {folder} ({exc.strerror}); check its permissions") from None
    frames = {t: read_table(p, t, schemas=SCHEMAS) if p.is_file() else made[t] for t, p in paths.items()}
    ids = set(trainees["trainee_id"])
    _check_ids(frames["attendance"], paths["attendance"], ids, unique_by=["trainee_id", "session"])
    _check_ids(frames["people"], paths["people"], ids, unique_by=["trainee_id"])
    return Records(attendance=frames["attendance"], people=frames["people"],
                   synthetic=bool(made) or (folder / SYNTHETIC_MARKER).is_file(), written=tuple(written))


# --- gates -------------------------------------------------------------------------------------

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

    from ..banks import bank_paths, load_banks
    from ..course import export_scores
    from ..facts import load_facts

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
    from ..facts import load_facts

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
    from ..facts import load_facts

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
    from ..banks import load_bank

    bank = load_bank(bank_path, facts)
    items = {i.grade_id: tuple(sorted(set(i.facts_used))) for i in bank.items}
    tested = {f for used in items.values() for f in used}
    changed = sorted(f.id for f in facts if f.last_checked > since and not f.id.startswith(exclude_prefixes))
    return RefresherCoverage(since=since, items=items, covered=tuple(f for f in changed if f in tested),
                             uncovered=tuple(f for f in changed if f not in tested))
