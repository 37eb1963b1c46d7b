"""A cohort folder, loaded and cross-checked: `load_cohort` reads each table of `TABLES` that exists
(only ``trainees.csv`` is required: a cohort that has not reached the follow-up survey yet simply has
no ``followup.csv``, and the notebooks say so) and checks that every trainee id is a trainee."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DatasetError
from .tables import REQUIRED_TABLES, TABLES, _fail, _first, read_table

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
