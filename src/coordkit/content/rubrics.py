"""Rubrics for manually graded answers: one YAML file per assignment in graders/rubrics/<id>.yml.

Schema (checked by load_rubric; errors name the file, the cell, the criterion and the fix)::

    assignment: cs01_job_loss          # equals the file name and the item bank's id
    cells:
      q6_issues:                       # the grade_id of a manually graded item
        criteria:
          - id: coverage               # snake_case, unique within the cell
            ja: 課題を見つけ、分野ごとに分けている。
            en: The issues are found and separated by domain.
            levels:                    # at least two, points strictly increasing from 0
              - {points: 0, ja: ..., en: ...}
              - {points: 1, ja: ..., en: ...}
              - {points: 2, ja: ..., en: ...}

A cell's points equal the sum of its criteria's top levels, and equal the item's points in the
bank (checked against the bank by check_rubric). The rubric is rendered into the graders' source
notebook (render_markdown) and appended to each trainee's feedback, without the model answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..errors import AssignmentError
from .facts import read_yaml

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
BEGIN = "<!-- BEGIN RUBRIC -->"
END = "<!-- END RUBRIC -->"


@dataclass(frozen=True)
class Level:
    points: float
    ja: str
    en: str


@dataclass(frozen=True)
class Criterion:
    id: str
    ja: str
    en: str
    levels: tuple[Level, ...]

    @property
    def max_points(self) -> float:
        return self.levels[-1].points


@dataclass(frozen=True)
class CellRubric:
    grade_id: str
    criteria: tuple[Criterion, ...]

    @property
    def max_points(self) -> float:
        return sum(c.max_points for c in self.criteria)


@dataclass(frozen=True)
class Rubric:
    assignment: str
    path: Path
    cells: dict[str, CellRubric]

    def cell(self, grade_id: str) -> CellRubric:
        try:
            return self.cells[grade_id]
        except KeyError:
            raise AssignmentError(f"{self.path}: no rubric for cell {grade_id!r}; add it under 'cells:' "
                                  f"(known: {', '.join(self.cells) or 'none'})") from None

    def to_frame(self):
        """One row per level: grade_id, criterion, points, descriptor_ja, descriptor_en."""
        import pandas as pd

        rows = [{"grade_id": cell.grade_id, "criterion": c.id, "points": lv.points,
                 "descriptor_ja": lv.ja, "descriptor_en": lv.en}
                for cell in self.cells.values() for c in cell.criteria for lv in c.levels]
        return pd.DataFrame(rows, columns=["grade_id", "criterion", "points", "descriptor_ja", "descriptor_en"])


def _text(raw: dict, key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise AssignmentError(f"{where}: missing {key!r} (a non-empty descriptor in "
                              f"{'Japanese' if key == 'ja' else 'English'})")
    return value.strip()


def _points(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise AssignmentError(f"{where}: points must be a number >= 0, not {value!r}")
    return float(value)


def _criterion(raw: object, where: str) -> Criterion:
    if not isinstance(raw, dict):
        raise AssignmentError(f"{where}: a criterion is a mapping with id, ja, en, levels")
    cid = raw.get("id")
    if not isinstance(cid, str) or not _ID.match(cid):
        raise AssignmentError(f"{where}: criterion id {cid!r} must be snake_case, e.g. 'coverage'")
    where = f"{where} criterion {cid}"
    unknown = set(raw) - {"id", "ja", "en", "levels"}
    if unknown:
        raise AssignmentError(f"{where}: unknown key(s) {sorted(unknown)}; use id, ja, en, levels")
    levels_raw = raw.get("levels")
    if not isinstance(levels_raw, list) or len(levels_raw) < 2:
        raise AssignmentError(f"{where}: give at least two levels, each {{points, ja, en}}")
    levels = []
    for n, lv in enumerate(levels_raw, start=1):
        lwhere = f"{where} level {n}"
        if not isinstance(lv, dict) or set(lv) != {"points", "ja", "en"}:
            raise AssignmentError(f"{lwhere}: a level has exactly the keys points, ja, en")
        levels.append(Level(points=_points(lv["points"], lwhere), ja=_text(lv, "ja", lwhere),
                            en=_text(lv, "en", lwhere)))
    if levels[0].points != 0:
        raise AssignmentError(f"{where}: the lowest level must be worth 0 points")
    if any(b.points <= a.points for a, b in zip(levels, levels[1:])):
        raise AssignmentError(f"{where}: list the levels from lowest to highest, with different points")
    return Criterion(id=cid, ja=_text(raw, "ja", where), en=_text(raw, "en", where), levels=tuple(levels))


def load_rubric(path: Path | str) -> Rubric:
    """Load and schema-check one rubric file."""
    path = Path(path)
    data = read_yaml(path, what="rubric", error=AssignmentError)
    if not isinstance(data, dict) or set(data) != {"assignment", "cells"}:
        raise AssignmentError(f"{path}: a rubric has exactly two top-level keys, assignment and cells")
    if data["assignment"] != path.stem:
        raise AssignmentError(f"{path}: assignment {data['assignment']!r} must equal the file name {path.stem!r}")
    if not isinstance(data["cells"], dict) or not data["cells"]:
        raise AssignmentError(f"{path}: 'cells' maps each manually graded grade_id to its criteria")
    cells = {}
    for grade_id, raw in data["cells"].items():
        where = f"{path} cell {grade_id}"
        if not isinstance(raw, dict) or set(raw) != {"criteria"} or not isinstance(raw["criteria"], list) \
                or not raw["criteria"]:
            raise AssignmentError(f"{where}: a cell has one key, criteria, a non-empty list")
        criteria = tuple(_criterion(c, where) for c in raw["criteria"])
        ids = [c.id for c in criteria]
        if len(set(ids)) != len(ids):
            raise AssignmentError(f"{where}: criterion ids must be unique ({', '.join(ids)})")
        cells[str(grade_id)] = CellRubric(grade_id=str(grade_id), criteria=criteria)
    return Rubric(assignment=data["assignment"], path=path, cells=cells)


def check_rubric(rubric: Rubric, manual_items: Iterable[tuple[str, float]], *, bank_path: Path) -> None:
    """Each manual item (grade_id, points) has a rubric cell whose points add up to the item's,
    and the rubric has no cell the bank does not grade manually."""
    items = dict(manual_items)
    for grade_id, points in items.items():
        cell = rubric.cell(grade_id)
        if cell.max_points != points:
            raise AssignmentError(
                f"{rubric.path} cell {grade_id}: the criteria's top levels add up to {cell.max_points:g} points "
                f"but {bank_path} gives the item {points:g}; make them equal")
    extra = sorted(set(rubric.cells) - set(items))
    if extra:
        raise AssignmentError(f"{rubric.path}: cell(s) {', '.join(extra)} are not manually graded items of "
                              f"{bank_path}; remove them or fix the grade_id")


def load_rubrics(rubrics_dir: Path | str) -> dict[str, Rubric]:
    """Every rubric in the folder, by assignment id."""
    return {p.stem: load_rubric(p) for p in sorted(Path(rubrics_dir).glob("*.yml"))}


def render_markdown(cell: CellRubric) -> str:
    """The rubric of one cell as Markdown (Japanese, then English), between the BEGIN/END markers
    that the feedback plug-in looks for."""
    lines = [BEGIN, f"**採点基準 / Rubric** ({cell.max_points:g}点 / {cell.max_points:g} points)", ""]
    for n, c in enumerate(cell.criteria, start=1):
        lines.append(f"{n}. **{c.ja}** / *{c.en}*")
        for lv in reversed(c.levels):
            lines.append(f"    - {lv.points:g}点 / {lv.points:g} pt: {lv.ja} / *{lv.en}*")
    lines.append(END)
    return "\n".join(lines)


def extract_markdown(source: str) -> str | None:
    """The rendered rubric inside a cell's source (None if there is none)."""
    start, end = source.find(BEGIN), source.find(END)
    if start < 0 or end < start:
        return None
    return source[start: end + len(END)]
