"""The cohort's tables and their schemas: every CSV the evaluation reads has a schema here (`TABLES`),
`read_table` checks a file against it, and the book's data-dictionary page is generated from it
(`data_dictionary`, `table_markdown`), so the page and the validation never disagree. Validation
errors name the file, the row (as a spreadsheet shows it: the header is row 1) and the column."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from ..errors import DatasetError
# the vocabularies (stages, gates, competencies, organisation types, prefectures, topics) are coordkit.vocab's
from ..vocab import COMPETENCIES, FAILURE, ORG_TYPES, STAGES, SUCCESS, TOPICS

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
