"""Offline marking in a spreadsheet: a marker's queue out as an .xlsx workbook, marks back in.

The workbook has one sheet "marking" (one row per answer: the answer id, question, the answer's
text, one column per rubric criterion with a drop-down of that criterion's level points, a comment)
and one sheet "rubric" (every level's descriptor, in Japanese and English). A hidden column keeps a
fingerprint of the answer's text as exported. Import checks every row first; if any row is wrong
(an answer not in this marker's queue, a level the rubric does not have, an answer resubmitted since
export), it reports each problem with its row and column and applies nothing from that file.
openpyxl: the well-kept library for reading and writing Excel files; Excel, LibreOffice and Google
Sheets all open what it writes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .allocation import queue
from .marks import mark_entry, record_many
from .store import MarkingError
from .written import find_answers, rubric_cell

SHEET = "marking"
FIXED = ("answer_id", "assignment", "question", "prompt", "answer", "comment")
SHA = "answer_fingerprint"


def _criteria_columns(cells) -> list[str]:
    names = []
    for cell in cells:
        for c in cell.criteria:
            key = f"{cell.grade_id}:{c.id}"
            if key not in names:
                names.append(key)
    return names


def export_workbook(settings, marker: str, out: Path, *, assignment: str | None = None) -> int:
    """Write `marker`'s queue (marked and unmarked) to `out`; returns the number of rows."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    entries = queue(settings, marker, assignment)
    if not entries:
        raise MarkingError(f"{marker} has no answers to mark{' in ' + assignment if assignment else ''}; "
                           "run `coordkit mark allocate` first")
    found = find_answers(settings, [e.answer_id for e in entries])
    answers = [found[e.answer_id] for e in entries]
    cells = {(a.assignment, a.grade_id): rubric_cell(settings, a.assignment, a.grade_id) for a in answers}
    criteria = _criteria_columns(cells.values())
    prompts = {}
    from .written import manual_items

    for (asg, gid) in cells:
        bank, items = manual_items(settings, asg)
        prompts[(asg, gid)] = bank.item(gid).prompt

    previous = _own_latest(settings, marker, [a.id for a in answers])
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    header = [*FIXED[:5], *criteria, FIXED[5], SHA]
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for e, a in zip(entries, answers):
        own = previous.get(a.id)
        levels = own.levels if own else {}
        comment = own.comment if own else ""
        row = [a.id, a.assignment, a.grade_id, prompts[(a.assignment, a.grade_id)], a.text]
        for key in criteria:
            gid, cid = key.split(":", 1)
            row.append(levels.get(cid) if gid == a.grade_id else None)
        ws.append([*row, comment, a.sha])
    # one drop-down per criterion column, listing its levels' points
    for i, key in enumerate(criteria, start=len(FIXED[:5]) + 1):
        gid, cid = key.split(":", 1)
        crit = next(c for (asg, g), cell in cells.items() if g == gid for c in cell.criteria if c.id == cid)
        points = ",".join(f"{lv.points:g}" for lv in crit.levels)
        dv = DataValidation(type="list", formula1=f'"{points}"', allow_blank=True,
                            error=f"{cid}: choose one of {points}", errorTitle="Not a level of the rubric")
        letter = get_column_letter(i)
        dv.add(f"{letter}2:{letter}{len(entries) + 1}")
        ws.add_data_validation(dv)
    for letter, width in (("A", 15), ("B", 16), ("C", 18), ("D", 40), ("E", 70)):
        ws.column_dimensions[letter].width = width
    for row in ws.iter_rows(min_row=2):
        for cell in row[3:5]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions[get_column_letter(len(header))].hidden = True
    ws.freeze_panes = "F2"

    rub = wb.create_sheet("rubric")
    rub.append(["question", "criterion", "criterion (ja)", "criterion (en)", "points", "level (ja)", "level (en)"])
    for (asg, gid), cell in cells.items():
        for c in cell.criteria:
            for lv in c.levels:
                rub.append([gid, c.id, c.ja, c.en, lv.points, lv.ja, lv.en])
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return len(entries)


@dataclass(frozen=True)
class Imported:
    applied: int
    unchanged: int
    blank: int


def import_workbook(settings, marker: str, path: Path) -> Imported:
    """Apply the marks in `path` for `marker`, all or nothing (see the module docstring)."""
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    path = Path(path)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise MarkingError(f"{path} not found") from None
    except Exception as exc:
        raise MarkingError(f"{path} is not an Excel workbook ({exc.__class__.__name__}); "
                           "save it as .xlsx and import again") from None
    if SHEET not in wb.sheetnames:
        raise MarkingError(f"{path}: no sheet named {SHEET!r}; import the workbook that `coordkit mark export` wrote")
    rows = list(wb[SHEET].iter_rows(values_only=True))
    wb.close()
    if not rows:
        raise MarkingError(f"{path}: sheet {SHEET!r} is empty")
    header = [str(h) if h is not None else "" for h in rows[0]]
    missing = [h for h in (*FIXED, SHA) if h not in header]
    if missing:
        raise MarkingError(f"{path}: column(s) {', '.join(missing)} missing from sheet {SHEET!r}; "
                           "do not delete or rename the exported columns")
    col = {h: i for i, h in enumerate(header)}
    criteria = [h for h in header if ":" in h]
    mine = {e.answer_id: e for e in queue(settings, marker)}
    current = find_answers(settings, list(mine))
    problems: list[str] = []
    plan = []
    blank = 0
    for n, row in enumerate(rows[1:], start=2):
        row = list(row) + [None] * (len(header) - len(row))
        aid = str(row[col["answer_id"]] or "").strip()
        if not aid:
            continue
        where = f"{path.name} row {n}"
        if aid not in mine:
            problems.append(f"{where} column {get_column_letter(col['answer_id'] + 1)}: answer {aid} is not in "
                            f"{marker}'s queue (unknown or allocated to someone else)")
            continue
        answer = current[aid]
        if str(row[col[SHA]] or "") != answer.sha:
            problems.append(f"{where}: answer {aid} was resubmitted after this workbook was exported; "
                            "export again and mark the new text")
            continue
        cell = rubric_cell(settings, answer.assignment, answer.grade_id)
        levels = {}
        empty = 0
        for c in cell.criteria:
            key = f"{answer.grade_id}:{c.id}"
            if key not in col:
                problems.append(f"{where}: column {key} is missing")
                continue
            value = row[col[key]]
            letter = get_column_letter(col[key] + 1)
            if value is None or str(value).strip() == "":
                empty += 1
                continue
            points = [lv.points for lv in c.levels]
            try:
                number = float(str(value).strip())
            except ValueError:
                number = None
            if number not in points:
                problems.append(f"{where} column {letter} ({key}): {value!r} is not a level of the rubric; "
                                f"use one of {', '.join(f'{p:g}' for p in points)}")
                continue
            levels[c.id] = number
        for key in criteria:
            if not key.startswith(answer.grade_id + ":") and row[col[key]] not in (None, ""):
                problems.append(f"{where} column {get_column_letter(col[key] + 1)}: {key} belongs to another "
                                f"question; leave it empty for {answer.grade_id}")
        if empty == len(cell.criteria):
            blank += 1
            continue
        if empty:
            problems.append(f"{where}: choose a level for every criterion of {answer.grade_id} "
                            f"({empty} left empty), or leave them all empty to skip the answer")
            continue
        comment = str(row[col["comment"]] or "").strip()
        plan.append((answer, levels, comment, "first" if mine[aid].slot == 1 else "second"))
    if problems:
        shown = "\n  ".join(problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        raise MarkingError(f"{path}: nothing was imported; {len(problems)} problem(s):\n  {shown}{more}")
    previous = _own_latest(settings, marker, [p[0].id for p in plan])
    entries = []
    unchanged = 0
    for answer, levels, comment, role in plan:
        own = previous.get(answer.id)
        if own and own.levels == {k: float(v) for k, v in levels.items()} and own.comment == comment:
            unchanged += 1
            continue
        entries.append(mark_entry(settings, answer, marker, role, levels, comment, source="workbook"))
    record_many(settings, entries)
    return Imported(len(entries), unchanged, blank)


def _own_latest(settings, marker: str, ids: list[str]) -> dict:
    """The marker's latest first/second mark of each answer in `ids` (batched queries)."""
    from .marks import _marks_of
    from .store import _course, engine

    with engine(settings).connect() as conn:
        marks = _marks_of(conn, _course(settings), ids)
    out = {}
    for aid, history in marks.items():
        own = [m for m in history if m.marker == marker and m.role in ("first", "second")]
        if own:
            out[aid] = own[-1]
    return out
