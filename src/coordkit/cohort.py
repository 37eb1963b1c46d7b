"""A cohort's tables, loaded and validated: every table the evaluation reads has a schema here, and
an error names the file, the row and the column. The data dictionary page in the book documents them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import DatasetError

# table -> {column: (kind, required)}; kinds: id, str, int, float, bool
SCHEMAS: dict[str, dict[str, tuple[str, bool]]] = {
    "trainees": {"trainee_id": ("id", True), "prefecture": ("str", True), "org_type": ("str", True),
                 "years_experience": ("float", True), "first_language": ("str", True)},
    "scores": {"trainee_id": ("id", True), "assignment": ("str", True), "notebook": ("str", True),
               "grade_id": ("str", True), "kind": ("str", True), "score": ("float", False),
               "max_score": ("float", True), "needs_manual_grade": ("bool", True)},
    "pretest": {"trainee_id": ("id", True), "pre_score": ("float", True), "max_score": ("float", True)},
    "reaction": {"trainee_id": ("id", True), "module": ("str", True), "satisfaction": ("int", True),
                 "relevance": ("int", True), "recommend": ("int", True), "comment": ("str", False)},
}
RANGES = {("reaction", "satisfaction"): (1, 5), ("reaction", "relevance"): (1, 5),
          ("reaction", "recommend"): (0, 10), ("trainees", "years_experience"): (0, 60)}
ALLOWED = {("scores", "kind"): {"auto", "manual"}}


def _fail(path: Path, row: int | None, column: str, problem: str, fix: str) -> DatasetError:
    where = f"{path}" + (f" row {row}" if row is not None else "") + f" column {column!r}"
    return DatasetError(f"{where}: {problem}; {fix}")


def read_table(path: Path | str, table: str):
    """Read one CSV and check it against SCHEMAS[table]. Row numbers count the header as row 1,
    as a spreadsheet shows them."""
    import pandas as pd

    path = Path(path)
    schema = SCHEMAS[table]
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found; run `coordkit simulate` or export the cohort's "
                           f"{table} table there") from None
    except UnicodeDecodeError:
        raise DatasetError(f"{path}: not UTF-8 text; save the file as UTF-8 CSV") from None
    except pd.errors.ParserError as exc:
        raise DatasetError(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    missing = [c for c in schema if c not in frame.columns]
    if missing:
        raise _fail(path, None, missing[0], "column missing",
                    f"the {table} table needs the columns {', '.join(schema)}")
    out = frame[list(schema)].copy()
    for column, (kind, required) in schema.items():
        values = out[column].str.strip()
        blank = values == ""
        if required and blank.any():
            row = int(blank.idxmax()) + 2
            raise _fail(path, row, column, "empty", "fill it in or remove the row")
        if kind in ("int", "float"):
            numbers = pd.to_numeric(values.where(~blank), errors="coerce")
            bad = numbers.isna() & ~blank
            if bad.any():
                row = int(bad.idxmax()) + 2
                raise _fail(path, row, column, f"{values[bad.idxmax()]!r} is not a number", "write digits only")
            if kind == "int" and ((numbers.dropna() % 1) != 0).any():
                idx = ((numbers % 1) != 0).idxmax()
                raise _fail(path, int(idx) + 2, column, f"{values[idx]!r} is not a whole number", "write a whole number")
            low_high = RANGES.get((table, column))
            if low_high:
                low, high = low_high
                off = (numbers < low) | (numbers > high)
                if off.any():
                    idx = off.idxmax()
                    raise _fail(path, int(idx) + 2, column, f"{values[idx]} is outside {low}..{high}",
                                "check the value")
            out[column] = numbers.astype("Int64") if kind == "int" else numbers.astype(float)
        elif kind == "bool":
            mapped = values.str.lower().map({"true": True, "false": False, "1": True, "0": False})
            if mapped.isna().any():
                idx = mapped.isna().idxmax()
                raise _fail(path, int(idx) + 2, column, f"{values[idx]!r} is not true/false", "write true or false")
            out[column] = mapped.astype(bool)
        else:
            allowed = ALLOWED.get((table, column))
            if allowed is not None and not values.isin(allowed).all():
                idx = (~values.isin(allowed)).idxmax()
                raise _fail(path, int(idx) + 2, column, f"{values[idx]!r} is not one of {sorted(allowed)}",
                            "use one of the allowed values")
            out[column] = values
    return out


@dataclass(frozen=True)
class Cohort:
    name: str
    folder: Path
    trainees: "object"
    scores: "object"
    pretest: "object"
    reaction: "object"


def load_cohort(folder: Path | str, *, name: str | None = None) -> Cohort:
    """Load and cross-check a cohort folder: every trainee_id in the other tables must be a trainee."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: no such cohort folder; run `coordkit simulate` or `coordkit demo` first")
    tables = {t: read_table(folder / f"{t}.csv", t) for t in SCHEMAS}
    ids = set(tables["trainees"]["trainee_id"])
    dup = tables["trainees"]["trainee_id"].duplicated()
    if dup.any():
        idx = dup.idxmax()
        raise _fail(folder / "trainees.csv", int(idx) + 2, "trainee_id",
                    f"{tables['trainees']['trainee_id'][idx]!r} appears twice", "keep one row per trainee")
    for table in ("scores", "pretest", "reaction"):
        unknown = ~tables[table]["trainee_id"].isin(ids)
        if unknown.any():
            idx = unknown.idxmax()
            raise _fail(folder / f"{table}.csv", int(idx) + 2, "trainee_id",
                        f"{tables[table]['trainee_id'][idx]!r} is not in trainees.csv", "add the trainee or fix the id")
    return Cohort(name=name or folder.name, folder=folder, **tables)


def wide_scores(scores, *, assignment: str, kind: str | None = "auto"):
    """Trainees x items for one assignment (marks), for item analysis."""
    rows = scores[scores["assignment"] == assignment]
    if kind:
        rows = rows[rows["kind"] == kind]
    table = rows.pivot_table(index="trainee_id", columns="grade_id", values="score", aggfunc="first")
    max_marks = rows.groupby("grade_id")["max_score"].max()
    return table.sort_index(axis=1), max_marks.reindex(sorted(max_marks.index))


def headline(cohort: Cohort, *, pass_mark: float = 60.0) -> dict:
    """The cohort's headline figures: trainees, submissions, mean autograded score (%), share at or
    above `pass_mark` percent (an assumption: the official pass mark is not published)."""
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
        "mean_satisfaction": round(float(cohort.reaction["satisfaction"].mean()), 2),
    }
