"""A cohort's tables, loaded and validated, and the aggregations the evaluator notebooks show.

Every table the evaluation reads has a schema here (`TABLES`); the data-dictionary page of the book
is generated from it (`data_dictionary`). Validation errors name the file, the row (as a spreadsheet
shows it: the header is row 1) and the column. Only ``trainees.csv`` is required: a cohort that has
not reached the follow-up survey yet simply has no ``followup.csv``, and the notebooks say so.

The aggregations are vectorised (categorical codes, no per-group Python functions) so that the same
code runs on a 60-trainee cohort and on a million consultation records (see bench/evaluate.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..errors import DatasetError
# the vocabularies (stages, gates, competencies, organisation types, prefectures, topics) are coordkit.vocab's
from ..vocab import (COMPETENCIES, FAILURE, GATES, ORG_TYPE_LABELS, ORG_TYPES, STAGE_LABELS,  # noqa: F401
                    STAGES, SUCCESS, TOPICS)

# --------------------------------------------------------------------------------------------
# schemas
# --------------------------------------------------------------------------------------------

KINDS = ("id", "str", "cat", "int", "float", "bool", "date")

OUTCOMES = {"resolved": "窓口で解決", "referred": "関係機関につないだ", "unresolved": "未解決で終了",
            "pending": "対応中"}
ROLES = {"tp2_facilitator": "養成課程2 ファシリテーター", "practice_supervisor": "実践 指導者",
         "rater": "記述式答案 採点者"}
COMPETENCY_USE = tuple(f"uses_{c.lower()}" for c in COMPETENCIES)


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    required: bool
    description: str
    allowed: tuple[str, ...] | None = None
    range: tuple[float, float] | None = None


@dataclass(frozen=True)
class Table:
    name: str
    row: str
    description: str
    columns: tuple[Column, ...]
    unique: tuple[str, ...] = ()

    @property
    def schema(self) -> dict[str, tuple[str, bool]]:
        return {c.name: (c.kind, c.required) for c in self.columns}


def _c(name, kind, required, description, allowed=None, range=None) -> Column:
    return Column(name, kind, required, description, tuple(allowed) if allowed is not None else None, range)


_TID = _c("trainee_id", "id", True, "Pseudonymous trainee id (tr001, ...); the key shared by every table.")
_LIKERT = (1, 5)

TABLES: dict[str, Table] = {t.name: t for t in (
    Table("trainees", "trainee", "Who trained: the attributes used for subgroup views.", (
        _TID,
        _c("prefecture", "str", True, "Prefecture of the trainee's counter (都道府県名, e.g. 東京都)."),
        _c("org_type", "str", True, "Who runs the counter.", ORG_TYPES),
        _c("years_experience", "float", True, "Years of consultation work before the training.", range=(0, 60)),
        _c("first_language", "str", True, "The trainee's first language (日本語, ポルトガル語, ...)."),
    ), unique=("trainee_id",)),
    Table("enrolment", "trainee x stage reached",
          "Enrolment and stage completion, in the order of the training. A trainee's rows stop at the last "
          "stage reached; every stage before it was successful. The gates are decided on the first "
          "(gradebook) attempt.", (
        _TID,
        _c("stage", "str", True, "Stage of the training, in this order.", STAGES),
        _c("status", "str", True, "Outcome of the stage: enrolled; completed/withdrawn (tp1); "
           "completed/withdrawn/failed (practice; failed = practice report not accepted); passed/failed "
           "(tp1_check, completion_test); attended/absent (tp2); certified.",
           sorted(set(SUCCESS.values()) | {f for fs in FAILURE.values() for f in fs})),
        _c("date", "date", True, "Date of the outcome (YYYY-MM-DD); dates never go backwards along the stages."),
    ), unique=("trainee_id", "stage")),
    Table("scores", "trainee x graded cell",
          "Item responses: the per-item export of the nbgrader gradebook (`coordkit export`). Written "
          "answers are blank until graded by hand; their rubric marks are in rubric_scores.", (
        _TID,
        _c("assignment", "str", True, "Assignment id (cs01_job_loss, tp1_check, completion_test, ...)."),
        _c("notebook", "str", True, "Notebook name inside the assignment."),
        _c("grade_id", "str", True, "Graded cell id (q<N>_<what>), stable forever."),
        _c("kind", "str", True, "auto: autograded; manual: written answer graded with a rubric.", ("auto", "manual")),
        _c("score", "float", False, "Marks awarded. A written answer awaiting manual grading has "
           "needs_manual_grade true (nbgrader exports its score as 0); it is not a mark."),
        _c("max_score", "float", True, "Maximum marks of the cell."),
        _c("needs_manual_grade", "bool", True, "True while the cell awaits manual grading."),
    ), unique=("trainee_id", "assignment", "grade_id")),
    Table("rubric_scores", "written answer x rubric criterion x rater",
          "Rubric marks of the written answers (graders/rubrics/<assignment>.yml), with the rater's id. A "
          "share of the answers is marked twice, by two different raters, to measure rater agreement. "
          "An answer's mark is the mean of its raters' totals.", (
        _TID,
        _c("assignment", "str", True, "Assignment id."),
        _c("grade_id", "str", True, "Graded cell id of the written answer."),
        _c("criterion", "str", True, "Rubric criterion id (e.g. coverage, priority)."),
        _c("rater_id", "str", True, "Pseudonymous rater id (rt01, ...)."),
        _c("points", "float", True, "Points of the level the rater chose."),
        _c("max_points", "float", True, "Points of the criterion's top level."),
    ), unique=("trainee_id", "assignment", "grade_id", "criterion", "rater_id")),
    Table("pretest", "trainee",
          "The pre-test taken at enrolment: a parallel form of the completion test's autograded items "
          "(a design assumption of this toolkit).", (
        _TID,
        _c("pre_score", "float", True, "Pre-test score (0 to max_score)."),
        _c("max_score", "float", True, "Maximum score of the pre-test (100: percent)."),
    ), unique=("trainee_id",)),
    Table("reaction", "trainee x module",
          "End-of-module reaction survey (Kirkpatrick level 1). Whether ISA runs such a survey is not "
          "confirmed: a design assumption of this toolkit.", (
        _TID,
        _c("module", "cat", True, "Syllabus unit code (TP1-A1 ... TP1-E3, PRACTICE, TP2)."),
        _c("satisfaction", "int", True, "この科目に満足した (1 全くそう思わない ... 5 とてもそう思う).", range=_LIKERT),
        _c("relevance", "int", True, "内容は自分の相談業務に役立つ (1 ... 5).", range=_LIKERT),
        _c("recommend", "int", True, "同僚にこの科目を勧める可能性 (0 ... 10; promoters 9-10, detractors 0-6).",
           range=(0, 10)),
        _c("comment", "str", False, "Free text in Japanese (自由記述); optional."),
    ), unique=("trainee_id", "module")),
    Table("followup", "certified trainee who answered",
          "Follow-up survey six months after certification (Kirkpatrick level 3): what the coordinator "
          "does at work. Counts cover the six months before the survey.", (
        _TID,
        _c("surveyed_on", "date", True, "Date of the answer."),
        _c("consultations_handled", "int", True, "Consultations handled (self-reported).", range=(0, 100000)),
        _c("referrals_made", "int", True, "Consultations connected to a partner organisation.", range=(0, 100000)),
        _c("preventive_sessions", "int", True, "Information sessions held for foreign residents or employers "
           "(preventive support, 予防的支援).", range=(0, 1000)),
        _c("uses_c1", "int", True, "How often the coordinator uses C1, grasping residence status "
           "(1 全く使っていない, 2 ほとんど, 3 時々, 4 よく, 5 ほぼ毎回).", range=_LIKERT),
        _c("uses_c2", "int", True, "How often: C2, understanding cultures and values (1 ... 5).", range=_LIKERT),
        _c("uses_c3", "int", True, "How often: C3, leading complex consultations to resolution (1 ... 5).",
           range=_LIKERT),
        _c("uses_c4", "int", True, "How often: C4, connecting to appropriate support (1 ... 5).", range=_LIKERT),
        _c("comment", "str", False, "Free text in Japanese; optional."),
    ), unique=("trainee_id",)),
    Table("consultations", "consultation handled by a trainee",
          "Consultation outcome records from the trainees' counters (Kirkpatrick level 4), before, during "
          "and after the training. One record per consultation, with its main topic.", (
        _c("consultation_id", "id", True, "Record id, unique."),
        _TID,
        _c("date", "date", True, "Date of the first contact."),
        _c("topic", "cat", True, "Main topic.", tuple(TOPICS)),
        _c("language", "cat", True, "Language of the consultation (日本語, ポルトガル語, ...)."),
        _c("issues", "int", True, "Number of distinct issues in the consultation (1 = simple; 3+ = complex, "
           "multi-layered).", range=(1, 10)),
        _c("outcome", "cat", True, "resolved: solved at the counter; referred: connected to a partner "
           "organisation; unresolved: closed without a solution; pending: still open.", tuple(OUTCOMES)),
        _c("referred_to", "cat", False, "Partner organisation (required when referred)."),
        _c("days_to_resolution", "int", False, "Days from first contact to resolution or referral "
           "(required when resolved or referred, blank otherwise).", range=(0, 3650)),
    ), unique=("consultation_id",)),
    Table("roster", "lecturer x role x fiscal year",
          "Lecturer roster with availability: the days each lecturer can give to a role in a fiscal year. "
          "Input of the capacity plan.", (
        _c("lecturer_id", "id", True, "Pseudonymous lecturer id (lec01, ...)."),
        _c("role", "str", True, "Role in the training.", tuple(ROLES)),
        _c("fiscal_year", "int", True, "Japanese fiscal year (April to March), e.g. 2026.", range=(2024, 2100)),
        _c("available_days", "float", True, "Working days available for the role in that year.", range=(0, 366)),
    ), unique=("lecturer_id", "role", "fiscal_year")),
)}

# The dict forms used by read_table (and by other modules' own schemas: certification.SCHEMAS).
SCHEMAS: dict[str, dict[str, tuple[str, bool]]] = {name: t.schema for name, t in TABLES.items()}
REQUIRED_TABLES = ("trainees",)


def _fail(path: Path, row: int | None, column: str, problem: str, fix: str) -> DatasetError:
    where = f"{path}" + (f" row {row}" if row is not None else "") + f" column {column!r}"
    return DatasetError(f"{where}: {problem}; {fix}")


def _first(mask) -> int:
    """Position of the first True of a boolean Series (RangeIndex)."""
    return int(mask.to_numpy().argmax())


def _prefectures() -> tuple[str, ...]:
    from ..vocab import PREFECTURES

    return PREFECTURES


def read_table(path: Path | str, table: str, *, schemas: Mapping[str, Mapping[str, tuple[str, bool]]] | None = None):
    """Read one CSV and check it against its schema: `TABLES[table]` (columns, kinds, allowed values,
    ranges, unique keys), or `schemas[table]` ({column: (kind, required)}) for a table another module
    defines. Kinds: id, str, cat (a string stored as a category), int, float, bool, date (YYYY-MM-DD).
    Row numbers count the header as row 1, as a spreadsheet shows them. Extra columns are ignored."""
    import pandas as pd

    path = Path(path)
    spec = TABLES.get(table) if schemas is None else None
    schema = spec.schema if spec else (schemas or {}).get(table)
    if schema is None:
        raise DatasetError(f"unknown table {table!r}; known tables are {', '.join(TABLES)}")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found; run `coordkit simulate` or export the cohort's "
                           f"{table} table there") from None
    except UnicodeDecodeError:
        raise DatasetError(f"{path}: not UTF-8 text; save the file as UTF-8 CSV") from None
    except pd.errors.EmptyDataError:
        raise DatasetError(f"{path}: the file is empty; it needs a header row with the columns "
                           f"{', '.join(schema)}") from None
    except pd.errors.ParserError as exc:
        raise DatasetError(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    missing = [c for c in schema if c not in frame.columns]
    if missing:
        raise _fail(path, None, missing[0], "column missing",
                    f"the {table} table needs the columns {', '.join(schema)}")
    columns = {c.name: c for c in spec.columns} if spec else {}
    out = {}
    for column, (kind, required) in schema.items():
        values = frame[column].str.strip()
        blank = values == ""
        if required and blank.any():
            raise _fail(path, _first(blank) + 2, column, "empty", "fill it in or remove the row")
        col = columns.get(column)
        if kind in ("int", "float"):
            numbers = pd.to_numeric(values.where(~blank), errors="coerce")
            bad = numbers.isna() & ~blank
            if bad.any():
                i = _first(bad)
                raise _fail(path, i + 2, column, f"{values.iloc[i]!r} is not a number", "write digits only")
            if kind == "int":
                frac = (numbers % 1).fillna(0) != 0
                if frac.any():
                    i = _first(frac)
                    raise _fail(path, i + 2, column, f"{values.iloc[i]!r} is not a whole number",
                                "write a whole number")
            if col and col.range:
                low, high = col.range
                off = (numbers < low) | (numbers > high)
                if off.any():
                    i = _first(off)
                    raise _fail(path, i + 2, column, f"{values.iloc[i]} is outside {low:g}..{high:g}",
                                "check the value")
            out[column] = numbers.astype("Int64") if kind == "int" else numbers.astype(float)
        elif kind == "bool":
            mapped = values.str.lower().map({"true": True, "false": False, "1": True, "0": False})
            if mapped.isna().any():
                i = _first(mapped.isna())
                raise _fail(path, i + 2, column, f"{values.iloc[i]!r} is not true/false", "write true or false")
            out[column] = mapped.astype(bool)
        elif kind == "date":
            dates = pd.to_datetime(values.where(~blank), format="%Y-%m-%d", errors="coerce")
            bad = dates.isna() & ~blank
            if bad.any():
                i = _first(bad)
                raise _fail(path, i + 2, column, f"{values.iloc[i]!r} is not a date", "write it as YYYY-MM-DD")
            out[column] = dates.astype("datetime64[s]")
        else:
            allowed = col.allowed if col else None
            if column == "prefecture" and table == "trainees":
                allowed = _prefectures()
            if allowed is not None:
                off = ~values.isin(allowed) & ~blank
                if off.any():
                    i = _first(off)
                    shown = ", ".join(allowed) if len(allowed) <= 12 else f"{', '.join(allowed[:12])}, ..."
                    raise _fail(path, i + 2, column, f"{values.iloc[i]!r} is not one of {shown}",
                                "use one of the allowed values")
            out[column] = values.astype("category") if kind == "cat" else values
    result = pd.DataFrame(out)
    if spec and spec.unique:
        dup = result.duplicated(list(spec.unique))
        if dup.any():
            i = _first(dup)
            key = ", ".join(f"{c} {result[c].iloc[i]!r}" for c in spec.unique)
            raise _fail(path, i + 2, spec.unique[-1], f"{key} appears twice", "keep one row")
    check = _ROW_RULES.get(table) if spec else None
    if check:
        check(result, path)
    return result


def _rule(frame, path: Path, mask, column: str, problem: str, fix: str) -> None:
    if mask.any():
        i = _first(mask)
        raise _fail(path, i + 2, column, problem.format(**{k: frame[k].iloc[i] for k in frame.columns}), fix)


def _check_scores(frame, path: Path) -> None:
    over = frame["score"].notna() & (frame["score"] > frame["max_score"] + 1e-9)
    _rule(frame, path, over | (frame["score"] < 0), "score", "{score:g} is outside 0..{max_score:g}",
          "check the gradebook export")


def _check_rubric(frame, path: Path) -> None:
    _rule(frame, path, (frame["points"] < 0) | (frame["points"] > frame["max_points"] + 1e-9), "points",
          "{points:g} is outside 0..{max_points:g}", "use a level of the rubric")


def _check_pretest(frame, path: Path) -> None:
    _rule(frame, path, (frame["pre_score"] < 0) | (frame["pre_score"] > frame["max_score"]), "pre_score",
          "{pre_score:g} is outside 0..{max_score:g}", "check the value")


def _check_enrolment(frame, path: Path) -> None:
    import numpy as np

    stage = frame["stage"].map({s: i for i, s in enumerate(STAGES)}).to_numpy()
    pairs = {f"{s}|{SUCCESS[s]}" for s in STAGES} | {f"{s}|{f}" for s, fs in FAILURE.items() for f in fs}
    ok = (frame["stage"].astype(str) + "|" + frame["status"].astype(str)).isin(pairs)
    _rule(frame, path, ~ok, "status", "{status!r} is not an outcome of stage {stage!r}",
          "use " + "; ".join("/".join((s + ": " + SUCCESS[s],) + FAILURE.get(s, ())) for s in STAGES))
    order = frame.assign(_s=stage, _row=np.arange(len(frame))).sort_values(["trainee_id", "_s"], kind="stable")
    expected = order.groupby("trainee_id", sort=False).cumcount().to_numpy()
    gap = order["_s"].to_numpy() != expected
    if gap.any():
        row = int(order["_row"].to_numpy()[gap.argmax()])
        prev = STAGES[expected[gap.argmax()]]
        raise _fail(path, row + 2, "stage", f"trainee {frame['trainee_id'].iloc[row]!r} reached "
                    f"{frame['stage'].iloc[row]!r} without a {prev!r} row", "add the missing stage rows in order")
    last = order.groupby("trainee_id", sort=False)["_s"].transform("max").to_numpy() == order["_s"].to_numpy()
    failed = order["status"].isin({f for fs in FAILURE.values() for f in fs}).to_numpy()
    bad = failed & ~last
    if bad.any():
        row = int(order["_row"].to_numpy()[bad.argmax()])
        raise _fail(path, row + 2, "status", f"trainee {frame['trainee_id'].iloc[row]!r} has status "
                    f"{frame['status'].iloc[row]!r} at {frame['stage'].iloc[row]!r} but later stages too",
                    "remove the later rows or correct the status")
    dates = order["date"].to_numpy()
    same = order["trainee_id"].to_numpy()
    back = np.zeros(len(order), bool)
    back[1:] = (same[1:] == same[:-1]) & (dates[1:] < dates[:-1])
    if back.any():
        row = int(order["_row"].to_numpy()[back.argmax()])
        raise _fail(path, row + 2, "date", f"{frame['date'].iloc[row]:%Y-%m-%d} is before the date of the "
                    "previous stage", "check the dates")


def _check_consultations(frame, path: Path) -> None:
    closed = frame["outcome"].isin(["resolved", "referred"])
    days = frame["days_to_resolution"]
    _rule(frame, path, closed & days.isna(), "days_to_resolution", "empty although the outcome is {outcome!r}",
          "write the days to resolution")
    _rule(frame, path, ~closed & days.notna(), "days_to_resolution",
          "{days_to_resolution} given although the outcome is {outcome!r}", "leave it blank or fix the outcome")
    referred = frame["outcome"] == "referred"
    blank = frame["referred_to"].astype(str).isin(["", "nan"]) | frame["referred_to"].isna()
    _rule(frame, path, referred & blank, "referred_to", "empty although the outcome is 'referred'",
          "name the partner organisation")


_ROW_RULES = {"scores": _check_scores, "rubric_scores": _check_rubric, "pretest": _check_pretest,
              "enrolment": _check_enrolment, "consultations": _check_consultations}


def data_dictionary():
    """One row per table column: table, column, type, required, values (allowed values or range),
    description. The book's data-dictionary page renders it, so the page and the validation never
    disagree."""
    import pandas as pd

    kind_names = {"id": "id (text)", "str": "text", "cat": "text", "int": "whole number", "float": "number",
                  "bool": "true/false", "date": "date (YYYY-MM-DD)"}
    rows = []
    for t in TABLES.values():
        for c in t.columns:
            if c.allowed is not None:
                values = ", ".join(c.allowed)
            elif c.range is not None:
                values = f"{c.range[0]:g} to {c.range[1]:g}"
            elif t.name == "trainees" and c.name == "prefecture":
                values = "one of the 47 prefectures"
            else:
                values = ""
            rows.append({"table": t.name, "column": c.name, "type": kind_names[c.kind],
                         "required": "yes" if c.required else "no", "values": values,
                         "description": c.description})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# the cohort
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cohort:
    """A cohort's validated tables (pandas DataFrames); a table whose file is absent is None and
    its name is in `missing`."""

    name: str
    folder: Path
    trainees: Any
    enrolment: Any = None
    scores: Any = None
    rubric_scores: Any = None
    pretest: Any = None
    reaction: Any = None
    followup: Any = None
    consultations: Any = None
    roster: Any = None
    missing: tuple[str, ...] = ()

    @property
    def assignments(self) -> list[str]:
        """Assignments with scores, sorted."""
        return sorted(self.scores["assignment"].unique()) if self.scores is not None else []


def load_cohort(folder: Path | str, *, name: str | None = None) -> Cohort:
    """Load and cross-check a cohort folder: each table `<name>.csv` of `TABLES` that exists;
    trainees.csv is required. Every trainee_id in the other tables must be a trainee, and a
    follow-up answer must come from a certified trainee."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: no such cohort folder; run `coordkit simulate` or `coordkit demo` first")
    tables, missing = {}, []
    for table in TABLES:
        path = folder / f"{table}.csv"
        if table in REQUIRED_TABLES or path.is_file():
            tables[table] = read_table(path, table)
        else:
            missing.append(table)
    ids = set(tables["trainees"]["trainee_id"])
    for table, frame in tables.items():
        if table in ("trainees", "roster"):
            continue
        unknown = ~frame["trainee_id"].isin(ids)
        if unknown.any():
            i = _first(unknown)
            raise _fail(folder / f"{table}.csv", i + 2, "trainee_id",
                        f"{frame['trainee_id'].iloc[i]!r} is not in trainees.csv", "add the trainee or fix the id")
    if "followup" in tables and "enrolment" in tables:
        certified = set(tables["enrolment"].loc[tables["enrolment"]["stage"] == "certified", "trainee_id"])
        odd = ~tables["followup"]["trainee_id"].isin(certified)
        if odd.any():
            i = _first(odd)
            raise _fail(folder / "followup.csv", i + 2, "trainee_id",
                        f"{tables['followup']['trainee_id'].iloc[i]!r} is not certified in enrolment.csv",
                        "the follow-up survey is for certified coordinators; fix the id or the enrolment")
    return Cohort(name=name or folder.name, folder=folder, missing=tuple(missing), **tables)


def wide_scores(scores, *, assignment: str, kind: str | None = "auto"):
    """Trainees x items for one assignment (marks), for item analysis."""
    rows = scores[scores["assignment"] == assignment]
    if kind:
        rows = rows[rows["kind"] == kind]
    table = rows.pivot_table(index="trainee_id", columns="grade_id", values="score", aggfunc="first")
    max_marks = rows.groupby("grade_id")["max_score"].max()
    return table.sort_index(axis=1), max_marks.reindex(sorted(max_marks.index))


def headline(cohort: Cohort, *, pass_mark: float | None = None) -> dict:
    """The cohort's headline figures: trainees, submissions, mean autograded score (%), share at or
    above `pass_mark` percent (default: the certification rule's, coordkit.rule.DEFAULT_PASS_PERCENT;
    an assumption: the official pass mark is not published)."""
    from ..rule import DEFAULT_PASS_PERCENT

    pass_mark = DEFAULT_PASS_PERCENT if pass_mark is None else float(pass_mark)
    scores = cohort.scores
    auto = scores[scores["kind"] == "auto"]
    per = auto.groupby(["trainee_id", "assignment"])[["score", "max_score"]].sum()
    pct = 100 * per["score"] / per["max_score"]
    return {
        "trainees": int(len(cohort.trainees)),
        "submissions": int(len(per)),
        "mean_auto_percent": round(float(pct.mean()), 1) if len(pct) else float("nan"),
        "pass_mark_percent": pass_mark,
        "at_or_above_pass_mark": int((pct >= pass_mark).sum()),
        "awaiting_manual_grading": int(scores["needs_manual_grade"].sum()),
        "mean_satisfaction": round(float(cohort.reaction["satisfaction"].mean()), 2)
        if cohort.reaction is not None else float("nan"),
    }


# --------------------------------------------------------------------------------------------
# level 2: gates, test marks, pre/post
# --------------------------------------------------------------------------------------------

def funnel(enrolment):
    """Stage by stage: ``reached`` (trainees with a row), ``succeeded`` (completed, passed,
    attended...), ``stopped`` (withdrawn, failed, absent), ``rate`` = succeeded / reached (percent:
    the gate pass rate for tp1_check and completion_test) and ``of_enrolled`` = succeeded / enrolled
    (percent). A trainee still in a stage is counted as reached and succeeded at the stage before."""
    import numpy as np
    import pandas as pd

    stage = pd.Categorical(enrolment["stage"], categories=STAGES)
    codes = stage.codes
    success = (enrolment["status"].to_numpy() == enrolment["stage"].map(SUCCESS).to_numpy())
    reached = np.bincount(codes, minlength=len(STAGES))
    succeeded = np.bincount(codes, weights=success, minlength=len(STAGES)).astype(int)
    enrolled = max(int(reached[0]), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(reached > 0, 100 * succeeded / reached, np.nan)
    return pd.DataFrame({"label": [STAGE_LABELS[s] for s in STAGES], "reached": reached,
                         "succeeded": succeeded, "stopped": reached - succeeded, "rate": rate,
                         "of_enrolled": 100 * succeeded / enrolled}, index=pd.Index(STAGES, name="stage"))


def final_manual_marks(rubric_scores):
    """Each written answer's mark: the mean over its raters of the rater's total over the criteria.
    Columns: trainee_id, assignment, grade_id, score, max_score, raters."""
    per_rater = rubric_scores.groupby(["trainee_id", "assignment", "grade_id", "rater_id"], observed=True,
                                      sort=False)[["points", "max_points"]].sum()
    marks = per_rater.groupby(level=[0, 1, 2], sort=True).agg(
        score=("points", "mean"), max_score=("max_points", "max"), raters=("points", "size"))
    return marks.reset_index()


def item_order(grade_ids) -> list[str]:
    """Grade ids in question order (q2 before q10), as the bank lists them."""
    import re

    def key(gid: str):
        m = re.match(r"q(\d+)", gid)
        return (int(m.group(1)) if m else 10**9, gid)

    return sorted(grade_ids, key=key)


def assignment_marks(cohort: Cohort, assignment: str, *, include_manual: bool = True):
    """Trainees x items (marks) of one assignment, and the items' maxima: the autograded items from
    scores.csv, and (with `include_manual`) each written answer's mark from the gradebook if graded
    there (needs_manual_grade false), else its rubric mark (`final_manual_marks`). A written answer
    with no mark stays NaN."""
    import pandas as pd

    rows = cohort.scores[cohort.scores["assignment"] == assignment]
    if not include_manual:
        rows = rows[rows["kind"] == "auto"]
    # nbgrader exports a written answer awaiting manual grading with score 0: it has no mark yet
    rows = rows.assign(score=rows["score"].mask(rows["needs_manual_grade"] & (rows["kind"] == "manual")))
    if include_manual and cohort.rubric_scores is not None:
        manual = final_manual_marks(cohort.rubric_scores[cohort.rubric_scores["assignment"] == assignment])
        keyed = manual.set_index(["trainee_id", "grade_id"])["score"]
        key = pd.MultiIndex.from_frame(rows[["trainee_id", "grade_id"]])
        fill = pd.Series(keyed.reindex(key).to_numpy(), index=rows.index)
        rows = rows.assign(score=rows["score"].fillna(fill))
    wide = rows.pivot_table(index="trainee_id", columns="grade_id", values="score", aggfunc="first",
                            dropna=False)
    wide = wide.reindex(index=sorted(rows["trainee_id"].unique()), columns=item_order(rows["grade_id"].unique()))
    max_marks = rows.groupby("grade_id")["max_score"].max().reindex(wide.columns)
    return wide, max_marks


def assignment_percent(cohort: Cohort, assignment: str, *, include_manual: bool = True):
    """Each trainee's percent of the assignment's maximum (NaN if a mark is missing)."""
    wide, max_marks = assignment_marks(cohort, assignment, include_manual=include_manual)
    return (100 * wide.sum(axis=1, min_count=len(wide.columns)) / float(max_marks.sum())).rename(assignment)


def gate_check(cohort: Cohort, *, pass_mark=None):
    """The gate decisions in enrolment.csv against the marks in the gradebook: for each gate with
    scores, trainees with a decision, with a complete mark, and disagreements (passed below the
    gate's pass mark, or failed at or above it). `pass_mark`: as coordkit.rule.gate_pass_marks takes
    it (None: the certification rule's marks; a number: every gate; a mapping: rule overrides)."""
    import pandas as pd

    from ..rule import gate_pass_marks

    marks = gate_pass_marks(pass_mark)

    rows = []
    for gate in GATES:
        if cohort.enrolment is None or gate not in cohort.assignments:
            continue
        decided = cohort.enrolment[cohort.enrolment["stage"] == gate].set_index("trainee_id")["status"]
        pct = assignment_percent(cohort, gate).reindex(decided.index)
        known = pct.notna()
        passed = decided == "passed"
        disagree = known & (passed != (pct >= marks[gate]))
        rows.append({"gate": gate, "decided": int(len(decided)), "with_complete_mark": int(known.sum()),
                     "disagreements": int(disagree.sum()),
                     "examples": ", ".join(sorted(disagree[disagree].index)[:5])})
    return pd.DataFrame(rows, columns=["gate", "decided", "with_complete_mark", "disagreements", "examples"])


def pre_post(cohort: Cohort, *, post: str = "completion_test"):
    """Matched pre-test and post-test percentages per trainee. The post score is the percent on the
    autograded items of `post` (the pre-test is a parallel form of those items); trainees without
    both are dropped. Raises DatasetError when there is no pre-test or no `post` scores."""
    import pandas as pd

    if cohort.pretest is None:
        raise DatasetError(f"{cohort.folder / 'pretest.csv'}: no pre-test table; the learning gain needs it")
    if post not in cohort.assignments:
        raise DatasetError(f"{cohort.folder / 'scores.csv'}: no scores for {post!r}; the learning gain "
                           f"compares the pre-test with it (found: {', '.join(cohort.assignments) or 'none'})")
    pre = cohort.pretest.set_index("trainee_id")
    pre_pct = 100 * pre["pre_score"] / pre["max_score"]
    post_pct = assignment_percent(cohort, post, include_manual=False)
    both = pd.DataFrame({"pre": pre_pct, "post": post_pct}).dropna()
    both.index.name = "trainee_id"
    return both


# --------------------------------------------------------------------------------------------
# level 1: reaction
# --------------------------------------------------------------------------------------------

def reaction_summary(reaction, *, by: str | Sequence[str] = "module"):
    """Per group (default: module): responses, mean and top-2-box (% answering 4 or 5) of
    satisfaction and relevance, promoters (9-10) and detractors (0-6) of the 0-10 recommend item,
    NPS = % promoters - % detractors, and the number of comments."""
    import numpy as np

    r = reaction
    flags = r.assign(_sat=(r["satisfaction"] >= 4).astype(float), _rel=(r["relevance"] >= 4).astype(float),
                     _pro=(r["recommend"] >= 9).astype(float), _det=(r["recommend"] <= 6).astype(float),
                     _com=(r["comment"].astype(str).str.len() > 0).astype(float),
                     _satv=r["satisfaction"].astype(float), _relv=r["relevance"].astype(float))
    out = flags.groupby(by, observed=True, sort=True).agg(
        responses=("_sat", "size"), satisfaction_mean=("_satv", "mean"), satisfaction_top2=("_sat", "mean"),
        relevance_mean=("_relv", "mean"), relevance_top2=("_rel", "mean"), promoters=("_pro", "sum"),
        detractors=("_det", "sum"), comments=("_com", "sum"))
    for col in ("satisfaction_top2", "relevance_top2"):
        out[col] = 100 * out[col]
    for col in ("promoters", "detractors", "comments"):
        out[col] = out[col].astype(int)
    out["nps"] = 100 * (out["promoters"] - out["detractors"]) / out["responses"].replace(0, np.nan)
    return out


# --------------------------------------------------------------------------------------------
# rater agreement
# --------------------------------------------------------------------------------------------

def rater_pairs(rubric_scores, *, level: str = "criterion"):
    """The double-marked answers side by side: one row per answer (level="answer": summed over the
    criteria) or per answer x criterion (level="criterion"), with rater_a / rater_b (ordered by rater
    id) and points_a / points_b, and max_points. Answers marked by one rater are left out; an answer
    with three or more raters keeps its first two."""
    keys = ["trainee_id", "assignment", "grade_id"] + (["criterion"] if level == "criterion" else [])
    if level not in ("criterion", "answer"):
        raise ValueError(f"level must be 'criterion' or 'answer', not {level!r}")
    per = rubric_scores.groupby(keys + ["rater_id"], observed=True, sort=True)[["points", "max_points"]].sum()
    per = per.reset_index()
    per["_n"] = per.groupby(keys, sort=False).cumcount()
    a = per[per["_n"] == 0].set_index(keys)
    b = per[per["_n"] == 1].set_index(keys)
    out = a[["rater_id", "points", "max_points"]].join(b[["rater_id", "points"]], how="inner", lsuffix="_a",
                                                       rsuffix="_b")
    return out[["rater_id_a", "rater_id_b", "points_a", "points_b", "max_points"]]


def rater_severity(rubric_scores):
    """Per rater, over the double-marked answers: answers marked, and the mean difference between the
    rater's total and the co-rater's (positive = more lenient than colleagues), in points."""
    import pandas as pd

    pairs = rater_pairs(rubric_scores, level="answer")
    diff = pairs["points_a"] - pairs["points_b"]
    long = pd.concat([pd.DataFrame({"rater_id": pairs["rater_id_a"].to_numpy(), "diff": diff.to_numpy()}),
                      pd.DataFrame({"rater_id": pairs["rater_id_b"].to_numpy(), "diff": -diff.to_numpy()})])
    out = long.groupby("rater_id").agg(double_marked=("diff", "size"), mean_difference=("diff", "mean"))
    answers = rubric_scores[["rater_id", "trainee_id", "assignment", "grade_id"]].drop_duplicates()
    marked = answers["rater_id"].astype(str).value_counts()
    out.insert(0, "answers_marked", marked.reindex(out.index).fillna(0).astype(int))
    return out


# --------------------------------------------------------------------------------------------
# levels 3 and 4: follow-up and consultation records
# --------------------------------------------------------------------------------------------

PERIODS = ("before", "during", "after")
PERIOD_LABELS = {"before": "研修前", "during": "研修中", "after": "研修後"}


def trainee_milestones(enrolment):
    """Per trainee: enrolled (date), exit (the date of the last stage: certification, or the stage
    where the trainee stopped) and certified (bool)."""
    import pandas as pd

    e = enrolment
    start = e.loc[e["stage"] == "enrolled"].set_index("trainee_id")["date"]
    end = e.groupby("trainee_id", observed=True)["date"].max()
    certified = pd.Series(False, index=end.index)
    certified[e.loc[e["stage"] == "certified", "trainee_id"].to_numpy()] = True
    return pd.DataFrame({"enrolled": start.reindex(end.index), "exit": end, "certified": certified})


def consultation_periods(consultations, enrolment):
    """The consultation records with ``period`` (before: before enrolment; during: from enrolment to
    the trainee's last stage; after: after it, i.e. after certification for certified trainees) and
    ``certified`` (the handling trainee was certified). Vectorised over categorical codes."""
    import numpy as np
    import pandas as pd

    ms = trainee_milestones(enrolment)
    tid = consultations["trainee_id"]
    cats = tid.cat.categories if isinstance(tid.dtype, pd.CategoricalDtype) else None
    if cats is None:
        tid = tid.astype("category")
        cats = tid.cat.categories
    codes = tid.cat.codes.to_numpy()
    aligned = ms.reindex(cats)
    start = aligned["enrolled"].to_numpy(dtype="datetime64[s]")[codes]
    end = aligned["exit"].to_numpy(dtype="datetime64[s]")[codes]
    certified = aligned["certified"].fillna(False).to_numpy(dtype=bool)[codes]
    date = consultations["date"].to_numpy(dtype="datetime64[s]")
    period = np.where(date < start, 0, np.where(date <= end, 1, 2)).astype(np.int8)
    period[np.isnat(start)] = -1
    return consultations.assign(period=pd.Categorical.from_codes(period, categories=PERIODS),
                                certified=certified)


def consultation_outcomes(consultations, enrolment=None, *, by: Sequence[str] = ("certified", "period")):
    """Outcome rates per group: records, closed (not pending), and as percent of the closed records
    resolved (at the counter), referred (connected to a partner), connected (= resolved + referred,
    the coordinator's aim) and unresolved; median days to resolution or referral. ``by`` may name
    period/certified (then `enrolment` is needed) and any column of the records (topic, language,
    issues, trainee_id)."""
    import numpy as np
    import pandas as pd

    frame = consultations
    by = list(by)
    if {"period", "certified"} & set(by) and "period" not in frame.columns:
        if enrolment is None:
            raise DatasetError("grouping by period or certified needs the enrolment table")
        frame = consultation_periods(frame, enrolment)
    keys = [frame[c] for c in by]
    grouped = pd.DataFrame({f"_k{i}": k for i, k in enumerate(keys)})
    outcome = pd.Categorical(frame["outcome"], categories=list(OUTCOMES)).codes
    for i, name in enumerate(OUTCOMES):
        grouped[name] = (outcome == i)
    closed = outcome != list(OUTCOMES).index("pending")
    grouped["closed"] = closed
    grouped["_days"] = frame["days_to_resolution"].astype("float64").to_numpy()
    g = grouped.groupby([f"_k{i}" for i in range(len(by))], observed=True, sort=True)
    counts = g[["closed", *OUTCOMES]].sum()
    out = pd.DataFrame({"records": g.size(), "closed": counts["closed"]})
    denom = out["closed"].replace(0, np.nan)
    for name in ("resolved", "referred", "unresolved"):
        out[name] = 100 * counts[name] / denom
    out["connected"] = out["resolved"] + out["referred"]
    out["median_days"] = g["_days"].median()
    out.index.names = by
    return out


def coordinator_change(consultations, enrolment, *, min_records: int = 5):
    """Per trainee with at least `min_records` closed records both before and after the training:
    connected % before and after, and the change (percentage points); median days before and after."""
    import pandas as pd

    per = consultation_outcomes(consultations, enrolment, by=("trainee_id", "period"))
    wide = per[["closed", "connected", "median_days"]].unstack("period")
    need = [("closed", "before"), ("closed", "after")]
    if not all(c in wide.columns for c in need):
        return pd.DataFrame(columns=["closed_before", "closed_after", "connected_before", "connected_after",
                                     "change", "days_before", "days_after"])
    keep = (wide[("closed", "before")] >= min_records) & (wide[("closed", "after")] >= min_records)
    w = wide[keep]
    return pd.DataFrame({"closed_before": w[("closed", "before")].astype(int),
                         "closed_after": w[("closed", "after")].astype(int),
                         "connected_before": w[("connected", "before")], "connected_after": w[("connected", "after")],
                         "change": w[("connected", "after")] - w[("connected", "before")],
                         "days_before": w[("median_days", "before")], "days_after": w[("median_days", "after")]})


def followup_vs_records(followup, consultations, enrolment, *, months: int = 6):
    """The follow-up survey's self-reported counts next to the counter records of the same trainee
    in the `months` before the answer: consultations and referrals, reported and recorded."""
    import numpy as np
    import pandas as pd

    f = followup.set_index("trainee_id")
    c = consultations
    tid = c["trainee_id"].astype(str).to_numpy()
    answered = f["surveyed_on"].reindex(tid).to_numpy(dtype="datetime64[s]")
    date = c["date"].to_numpy(dtype="datetime64[s]")
    window = ~np.isnat(answered) & (date <= answered) & (date > answered - np.timedelta64(int(months * 30.44), "D"))
    sub = pd.DataFrame({"trainee_id": tid[window], "referred": (c["outcome"].to_numpy() == "referred")[window]})
    recorded = sub.groupby("trainee_id").agg(recorded_consultations=("referred", "size"),
                                             recorded_referrals=("referred", "sum"))
    out = f[["consultations_handled", "referrals_made"]].astype(float).join(recorded, how="left").fillna(0)
    out = out.rename(columns={"consultations_handled": "reported_consultations",
                              "referrals_made": "reported_referrals"})
    return out


def followup_summary(followup):
    """Competency use at work: for each of C1-C4, answers, mean (1-5) and % answering 4 or 5
    (よく使う / ほぼ毎回), plus the median of the counts."""
    import pandas as pd

    rows = []
    for col in COMPETENCY_USE:
        v = followup[col].astype(float)
        rows.append({"competency": col.replace("uses_", "").upper(), "answers": int(v.notna().sum()),
                     "mean": float(v.mean()), "often_percent": float(100 * (v >= 4).mean())})
    uses = pd.DataFrame(rows).set_index("competency")
    counts = followup[["consultations_handled", "referrals_made", "preventive_sessions"]].astype(float).median()
    return uses, counts


# --------------------------------------------------------------------------------------------
# subgroups
# --------------------------------------------------------------------------------------------

EXPERIENCE_BANDS = ((0, 3, "3年未満"), (3, 5, "3〜5年未満"), (5, 10, "5〜10年未満"), (10, math.inf, "10年以上"))
SUBGROUPS = {"prefecture": "都道府県", "org_type": "所属組織の種類", "experience": "相談業務の経験年数",
             "first_language": "第一言語"}


def with_subgroups(trainees):
    """trainees.csv with an ``experience`` band column (EXPERIENCE_BANDS)."""
    import numpy as np
    import pandas as pd

    edges = [b[0] for b in EXPERIENCE_BANDS] + [np.inf]
    band = pd.cut(trainees["years_experience"], bins=edges, right=False, labels=[b[2] for b in EXPERIENCE_BANDS])
    return trainees.assign(experience=band)


def subgroup_table(cohort: Cohort, *, by: str, threshold: int = 10):
    """A publishable subgroup view: per group of `by` (prefecture, org_type, experience,
    first_language), trainees, certified and not certified with small-cell suppression
    (`coordkit.evaluation.suppress_small_cells`, complementary suppression, a Total row, "合計").
    The certification rate is shown only when both the certified and the not-certified counts are
    at least `threshold` (a rate would otherwise give a hidden count away); the mean completion-test
    percent and mean satisfaction only for groups of at least `threshold` trainees ("—" otherwise).
    Returns an object DataFrame; org_type groups carry their Japanese names."""
    import numpy as np
    import pandas as pd

    from .evaluation import suppress_small_cells

    people = with_subgroups(cohort.trainees).set_index("trainee_id")
    if by not in people.columns:
        raise DatasetError(f"no subgroup column {by!r}; use one of {', '.join(SUBGROUPS)}")
    group = people[by].astype(str)
    certified = pd.Series(False, index=people.index)
    if cohort.enrolment is not None:
        done = cohort.enrolment.loc[cohort.enrolment["stage"] == "certified", "trainee_id"]
        certified[certified.index.isin(done)] = True
    counts = pd.DataFrame({"trainees": group.value_counts(),
                           "certified": group[certified].value_counts()}).fillna(0).astype(int)
    counts["not_certified"] = counts["trainees"] - counts["certified"]
    counts = counts.sort_values("trainees", ascending=False)
    counts.loc["合計"] = counts.sum()
    shown = suppress_small_cells(counts[["certified", "not_certified"]], threshold=threshold)
    shown.insert(0, "trainees", suppress_small_cells(counts[["trainees"]], threshold=threshold)["trainees"])
    big = counts["trainees"] >= threshold
    rate_ok = (counts["certified"] >= threshold) & (counts["not_certified"] >= threshold)
    metrics = {"certification_rate": 100 * counts["certified"] / counts["trainees"].replace(0, np.nan)}
    if "completion_test" in cohort.assignments:
        pct = assignment_percent(cohort, "completion_test")
        metrics["completion_mean"] = pct.groupby(group.reindex(pct.index)).mean().reindex(counts.index)
        metrics["completion_mean"]["合計"] = pct.mean()
    if cohort.reaction is not None:
        sat = cohort.reaction.groupby("trainee_id", observed=True)["satisfaction"].mean()
        metrics["satisfaction_mean"] = sat.groupby(group.reindex(sat.index)).mean().reindex(counts.index)
        metrics["satisfaction_mean"]["合計"] = sat.mean()
    for name, values in metrics.items():
        allowed = rate_ok if name == "certification_rate" else big
        shown[name] = [f"{v:.1f}" if ok and pd.notna(v) else "—" for v, ok in zip(values, allowed)]
    if by == "org_type":
        shown = shown.rename(index=ORG_TYPE_LABELS)
    shown.index.name = SUBGROUPS.get(by, by)
    return shown


# --------------------------------------------------------------------------------------------
# what to revise
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RevisionRules:
    """Points behind the ranked revision list (higher = revise first). Items: a negative
    discrimination index ``negative_di`` (check the key); any other flag of `item_analysis`
    ``per_flag`` each; removing the item raises alpha ``alpha_raise``. Modules: satisfaction or
    relevance top-2-box below ``top2_floor`` % ``low_top2`` each; NPS below 0 ``negative_nps``;
    a free-text theme raised negatively in at least ``theme_share`` % of a module's comments
    (and at least ``theme_min`` comments) ``per_theme``; at least ``flagged_share`` % of the items
    on the module's unit flagged (and at least ``flagged_min`` items) ``many_flagged``; mean
    facility of the unit's items below ``facility_floor`` % ``low_facility``. A target with fewer
    than ``min_n`` responses is marked tentative."""

    negative_di: int = 3
    per_flag: int = 1
    alpha_raise: int = 1
    top2_floor: float = 60.0
    low_top2: int = 2
    negative_nps: int = 1
    theme_share: float = 30.0
    theme_min: int = 3
    per_theme: int = 1
    flagged_share: float = 40.0
    flagged_min: int = 3
    many_flagged: int = 2
    facility_floor: float = 50.0
    low_facility: int = 2
    min_n: int = 20


ITEM_ACTIONS = {
    "negative discrimination": "Check the answer key and the wording; stronger trainees get it wrong.",
    "very hard": "Check that the module teaches it; reword, or move it to a later stage.",
    "very easy": "Make it more demanding, or drop it: it does not separate trainees.",
    "low discrimination": "Rewrite the distractors; the item barely separates stronger from weaker trainees.",
    "no variance": "Every trainee has the same mark: rewrite or drop the item.",
    "DE <": "Review with the item's author: Moodle would mark it dubious.",
}


def revision_candidates(*, items=None, modules=None, themes=None, rules: RevisionRules = RevisionRules()):
    """The ranked list of modules and items to revise, each with its evidence and a suggested action.

    - ``items``: item-analysis rows (index assignment, item) with at least ``facility``,
      ``discrimination_index``, ``flags``, ``n`` and ``unit``; optional ``alpha_if_deleted`` and
      ``alpha`` (the test's alpha).
    - ``modules``: `reaction_summary` by module.
    - ``themes``: `coordkit.themes.theme_table` (module x theme: negative comments, share).

    Returns rank, kind (item | module), target, unit, points, evidence, action, tentative; targets
    with no evidence are left out. The points are `RevisionRules` (documented there).
    """
    import pandas as pd

    rows: list[dict] = []
    flagged_by_unit: dict[str, int] = {}
    facility_by_unit: dict[str, float] = {}
    items_by_unit: dict[str, int] = {}
    if items is not None and len(items):
        it = items.reset_index()
        facility_by_unit = it.groupby("unit")["facility"].mean().to_dict()
        items_by_unit = it.groupby("unit").size().to_dict()
        for r in it.itertuples(index=False):
            evidence, actions, points = [], [], 0
            flags = [f.strip() for f in str(r.flags).split(";") if f.strip()]
            for flag in flags:
                points += rules.negative_di if flag.startswith("negative") else rules.per_flag
                evidence.append(flag)
                actions += [a for k, a in ITEM_ACTIONS.items() if flag.startswith(k)]
            alpha = getattr(r, "alpha", float("nan"))
            aid = getattr(r, "alpha_if_deleted", float("nan"))
            if pd.notna(aid) and pd.notna(alpha) and aid > alpha + 0.005:
                points += rules.alpha_raise
                evidence.append(f"alpha rises from {alpha:.2f} to {aid:.2f} without it")
            if points:
                flagged_by_unit[r.unit] = flagged_by_unit.get(r.unit, 0) + 1
                evidence.append(f"facility {r.facility:.0f}%, DI {r.discrimination_index:.0f}, n={int(r.n)}")
                rows.append({"kind": "item", "target": f"{r.assignment} / {r.item}", "unit": r.unit,
                             "points": points, "evidence": "; ".join(evidence),
                             "action": " ".join(dict.fromkeys(actions)) or "Review the item with its author.",
                             "tentative": int(r.n) < rules.min_n})
    if modules is not None and len(modules):
        for module, r in modules.iterrows():
            evidence, actions, points = [], [], 0
            for col, label in (("satisfaction_top2", "satisfied"), ("relevance_top2", "found it relevant")):
                if r[col] < rules.top2_floor:
                    points += rules.low_top2
                    evidence.append(f"only {r[col]:.0f}% {label} (top-2-box, n={int(r['responses'])})")
            if r["nps"] < 0:
                points += rules.negative_nps
                evidence.append(f"NPS {r['nps']:+.0f}")
            if themes is not None and module in themes.index.get_level_values(0):
                t = themes.loc[module]
                hot = t[(t["share"] >= rules.theme_share) & (t["negative"] >= rules.theme_min)]
                for theme, th in hot.iterrows():
                    points += rules.per_theme
                    evidence.append(f"{th['negative']:.0f} critical comments on {th['label']} "
                                    f"({th['share']:.0f}% of its comments)")
                    actions.append(th["action"])
            n_flag, n_items = flagged_by_unit.get(module, 0), items_by_unit.get(module, 0)
            if n_flag >= rules.flagged_min and 100 * n_flag / n_items >= rules.flagged_share:
                points += rules.many_flagged
                evidence.append(f"{n_flag} of its {n_items} test items flagged")
                actions.append("Review the unit's items with its lecturer (see the item rows of this list).")
            fac = facility_by_unit.get(module)
            if fac is not None and fac < rules.facility_floor:
                points += rules.low_facility
                evidence.append(f"mean facility of its items {fac:.0f}%")
                actions.append("Strengthen the teaching of this unit (more worked examples) before the tests.")
            if points:
                rows.append({"kind": "module", "target": str(module), "unit": str(module), "points": points,
                             "evidence": "; ".join(evidence),
                             "action": " ".join(dict.fromkeys(actions)) or "Read the module's comments and "
                             "review its content with the lecturer.",
                             "tentative": int(r["responses"]) < rules.min_n})
    out = pd.DataFrame(rows, columns=["kind", "target", "unit", "points", "evidence", "action", "tentative"])
    out = out.sort_values(["points", "kind"], ascending=[False, True], kind="stable").reset_index(drop=True)
    out.insert(0, "rank", range(1, len(out) + 1))
    return out


# --------------------------------------------------------------------------------------------
# lookups for the notebooks: syllabus names, item banks, rubric levels
# --------------------------------------------------------------------------------------------

def module_labels(syllabus_path: Path | str) -> dict[str, str]:
    """Unit code -> "TP1-B2 入管法（在留）" from book/syllabus.yml ({} if the file is absent)."""
    path = Path(syllabus_path)
    if not path.is_file():
        return {}
    from ..syllabus import load_syllabus

    return {u.code: f"{u.code} {u.name_ja}" for u in load_syllabus(path)}


def item_catalogue(items_dir: Path | str, facts_path: Path | str):
    """One row per bank item (index assignment, item): kind (auto | manual), points, unit,
    competency, difficulty; and the banks' kinds (``bank_kind``: case_study | test | report)."""
    import pandas as pd

    from ..banks import load_banks
    from ..facts import load_facts

    rows = [{"assignment": b.id, "item": it.grade_id, "bank_kind": b.kind, "kind": "auto" if it.auto else "manual",
             "points": it.points, "unit": it.unit, "competency": it.competency, "difficulty": it.difficulty}
            for b in load_banks(Path(items_dir), load_facts(Path(facts_path))) for it in b.items]
    return pd.DataFrame(rows).set_index(["assignment", "item"])


def rubric_levels(rubrics_dir: Path | str) -> dict[tuple[str, str, str], tuple[float, ...]]:
    """(assignment, grade_id, criterion) -> the declared level points of the rubric, for weighted kappa."""
    from ..rubrics import load_rubrics

    return {(a, cell.grade_id, c.id): tuple(lv.points for lv in c.levels)
            for a, rubric in load_rubrics(Path(rubrics_dir)).items() for cell in rubric.cells.values()
            for c in cell.criteria}


def analyse_items(cohort: Cohort, *, assignments: Sequence[str] | None = None, catalogue=None):
    """Item analysis (`coordkit.evaluation.item_analysis`, Moodle's definitions) of each assignment
    with scores, written answers included with their rubric marks. A written item nobody has a mark
    for yet is left out (listed in ``skipped``); other missing marks count 0, as in Moodle.

    Returns (items, tests, skipped): ``items`` one row per item (index assignment, item) with the
    item statistics, ``alpha`` (the test's alpha = CIC/100), ``alpha_if_deleted`` and, from
    `catalogue`, unit and competency; ``tests`` one row per assignment (QuizStatistics);
    ``skipped`` {assignment: [items]}."""
    import pandas as pd

    from .evaluation import alpha_if_deleted, item_analysis

    frames, tests, skipped = [], [], {}
    for assignment in assignments if assignments is not None else cohort.assignments:
        wide, max_marks = assignment_marks(cohort, assignment)
        empty = [c for c in wide.columns if wide[c].isna().all()]
        if empty:
            skipped[assignment] = empty
        wide = wide.drop(columns=empty)
        if wide.shape[1] < 2 or wide.notna().any(axis=1).sum() < 3:
            skipped.setdefault(assignment, []).extend(wide.columns)
            continue
        result = item_analysis(wide, max_marks=max_marks[wide.columns])
        items = result.to_frame()
        items["alpha"] = result.test.cic / 100
        if wide.shape[1] >= 3:
            items["alpha_if_deleted"] = alpha_if_deleted(wide.fillna(0.0))
        frames.append(items.assign(assignment=assignment).set_index("assignment", append=True)
                      .reorder_levels(["assignment", "item"]))
        tests.append({"assignment": assignment, **result.test.to_dict()})
    items = pd.concat(frames) if frames else pd.DataFrame()
    if catalogue is not None and len(items):
        items = items.join(catalogue[["unit", "competency", "kind"]], how="left")
    return items, pd.DataFrame(tests).set_index("assignment") if tests else pd.DataFrame(), skipped


def table_markdown(table: str) -> str:
    """The data-dictionary entry of one table as Markdown: what a row is, the description, and a
    column table (name, type, required, values, description). Used by the book's data dictionary."""
    spec = TABLES[table]
    frame = data_dictionary()
    frame = frame[frame["table"] == table]
    unique = f" Unique key: {', '.join(f'`{c}`' for c in spec.unique)}." if spec.unique else ""
    lines = [f"`{table}.csv`: one row per {spec.row}. {spec.description}{unique}", "",
             "| Column | Type | Required | Values | Description |", "|---|---|---|---|---|"]
    def cell(text: str) -> str:          # Markdown table cell: no pipes, and <placeholders> shown, not parsed
        return str(text).replace("|", "/").replace("<", "&lt;").replace(">", "&gt;")

    for r in frame.itertuples(index=False):
        cells = [f"`{r.column}`", cell(r.type), cell(r.required), cell(r.values), cell(r.description)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
