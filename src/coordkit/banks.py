"""Item banks: one YAML file per assignment in graders/items/ (never released to trainees).

Each item is tagged with its syllabus unit and competency; the nbgrader source notebook is generated
from the bank, so that items are analysed and revised in one place. Answers that depend on a rule
(a deadline, an amount) are computed from datasets/facts.yml, so a changed rule changes the key.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from .checks import KINDS, normalize
from .errors import AssignmentError, CoordkitError
from .facts import FactRegistry, deadline, read_yaml

AUTO_KINDS = KINDS
ASSIGNMENT_KINDS = ("case_study", "test", "report")


@dataclass(frozen=True)
class Item:
    grade_id: str
    kind: str                      # one of AUTO_KINDS, or "manual"
    points: float
    prompt: str
    unit: str
    competency: str
    key: Any = None                # normal form of the right answer (auto items)
    options: dict[str, str] = field(default_factory=dict)
    distractors: tuple = ()
    difficulty: float = 0.0        # logit scale, used by the simulator
    rubric: str | None = None      # graders/rubrics/<rubric>.yml for manual items
    model_answer: str = ""

    @property
    def auto(self) -> bool:
        return self.kind != "manual"

    @property
    def letters(self) -> str:
        return "".join(self.options) or "ABCD"


@dataclass(frozen=True)
class Bank:
    id: str
    path: Path
    kind: str
    title_ja: str
    title_en: str
    units: tuple[str, ...]
    domains: tuple[str, ...]
    intro: str
    case: str
    items: tuple[Item, ...]

    def item(self, grade_id: str) -> Item:
        for it in self.items:
            if it.grade_id == grade_id:
                return it
        raise AssignmentError(f"{self.path}: no item {grade_id!r}")

    @property
    def max_auto(self) -> float:
        return sum(i.points for i in self.items if i.auto)

    @property
    def max_total(self) -> float:
        return sum(i.points for i in self.items)


def _add_months(day: dt.date, months: int) -> dt.date:
    """Calendar month arithmetic; a day the target month lacks becomes its last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def compute_answer(spec: Any, facts: FactRegistry, *, where: str) -> Any:
    """The raw key from a bank's `answer:` entry (a literal, or a rule applied to a fact)."""
    if not isinstance(spec, dict):
        return spec
    if len(spec) != 1:
        raise AssignmentError(f"{where}: an answer rule has one key (deadline, months_before, amount, fact)")
    (rule, args), = spec.items()
    try:
        if rule == "fact":
            return facts.value(args)
        if rule == "deadline":        # start date + N days (fact in days)
            return deadline(str(args["from"]), facts.value(args["fact"])).isoformat()
        if rule == "months_before":   # date - N months (fact in months)
            day = dt.date.fromisoformat(str(args["date"]))
            return _add_months(day, -facts.value(args["fact"])).isoformat()
        if rule == "months_after":
            day = dt.date.fromisoformat(str(args["date"]))
            return _add_months(day, facts.value(args["fact"])).isoformat()
        if rule == "amount":          # fact value x times (+ plus)
            return facts.value(args["fact"]) * args.get("times", 1) + args.get("plus", 0)
    except CoordkitError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise AssignmentError(f"{where}: answer rule {rule!r} is incomplete or wrong ({exc})") from None
    raise AssignmentError(f"{where}: unknown answer rule {rule!r}; use deadline, months_before, "
                          "months_after, amount or fact")


def _default_distractors(kind: str, key: Any, letters: str) -> tuple:
    if kind == "choice":
        return tuple(c for c in letters if c != key)
    if kind == "order":
        parts = key.split("-")
        return ("-".join(reversed(parts)), "-".join(parts[1:] + parts[:1]))
    if kind == "date":
        day = dt.date.fromisoformat(key)
        return tuple((day + dt.timedelta(days=d)).isoformat() for d in (-1, 1, 16))
    if kind == "number":
        return (key // 2 if isinstance(key, int) else key / 2, key * 2)
    return ("",)


def load_bank(path: Path | str, facts: FactRegistry) -> Bank:
    """Load and validate one item bank; errors name the file, the item and the fix."""
    path = Path(path)
    data = read_yaml(path, what="item bank")
    if not isinstance(data, dict):
        raise AssignmentError(f"{path}: expected a mapping with id, kind, title_ja, title_en, items")
    for key in ("id", "kind", "title_ja", "title_en", "items"):
        if key not in data:
            raise AssignmentError(f"{path}: missing {key!r}")
    if data["id"] != path.stem:
        raise AssignmentError(f"{path}: id {data['id']!r} must equal the file name {path.stem!r}")
    if data["kind"] not in ASSIGNMENT_KINDS:
        raise AssignmentError(f"{path}: kind must be one of {ASSIGNMENT_KINDS}")
    items, seen = [], set()
    for n, raw in enumerate(data["items"], start=1):
        where = f"{path} item {n}"
        if not isinstance(raw, dict) or "grade_id" not in raw:
            raise AssignmentError(f"{where}: each item needs a grade_id like q{n}_what")
        gid = raw["grade_id"]
        where = f"{path} item {gid}"
        if gid in seen:
            raise AssignmentError(f"{where}: grade_id used twice; grade_ids are stable and unique")
        seen.add(gid)
        if not str(gid).startswith("q"):
            raise AssignmentError(f"{where}: grade_id must look like q<N>_<what>")
        kind = raw.get("kind")
        if kind not in (*AUTO_KINDS, "manual"):
            raise AssignmentError(f"{where}: kind {kind!r} is not one of {(*AUTO_KINDS, 'manual')}")
        for key in ("prompt", "points", "unit", "competency"):
            if key not in raw:
                raise AssignmentError(f"{where}: missing {key!r}")
        options = {str(k): str(v) for k, v in (raw.get("options") or {}).items()}
        letters = "".join(options) or "ABCD"
        key = None
        distractors: tuple = ()
        if kind != "manual":
            if "answer" not in raw:
                raise AssignmentError(f"{where}: an autograded item needs an answer")
            raw_key = compute_answer(raw["answer"], facts, where=where)
            try:
                key = normalize(raw_key, kind, name=gid, options=letters)
            except AssertionError:
                raise AssignmentError(f"{where}: the answer {raw_key!r} is not a valid {kind} answer") from None
            distractors = tuple(normalize(compute_answer(d, facts, where=where), kind, name=gid, options=letters)
                                for d in raw.get("distractors", ())) or _default_distractors(kind, key, letters)
            if key in distractors:
                raise AssignmentError(f"{where}: a distractor equals the answer {key!r}")
        elif not raw.get("rubric"):
            raise AssignmentError(f"{where}: a manually graded item needs a rubric (graders/rubrics/<id>.yml)")
        items.append(Item(grade_id=gid, kind=kind, points=float(raw["points"]), prompt=str(raw["prompt"]).strip(),
                          unit=str(raw["unit"]), competency=str(raw["competency"]), key=key, options=options,
                          distractors=distractors, difficulty=float(raw.get("difficulty", 0.0)),
                          rubric=raw.get("rubric"), model_answer=str(raw.get("model_answer", "")).strip()))
    return Bank(id=data["id"], path=path, kind=data["kind"], title_ja=data["title_ja"], title_en=data["title_en"],
                units=tuple(data.get("units", ())), domains=tuple(data.get("domains", ())),
                intro=str(data.get("intro", "")).strip(), case=str(data.get("case", "")).strip(),
                items=tuple(items))


def bank_paths(items_dir: Path) -> dict[str, Path]:
    return {p.stem: p for p in sorted(Path(items_dir).glob("*.yml"))}


def load_banks(items_dir: Path, facts: FactRegistry, ids: list[str] | None = None) -> list[Bank]:
    """Banks by id (all when ids is None); an unknown id names the ones that exist."""
    paths = bank_paths(items_dir)
    if ids:
        unknown = [i for i in ids if i not in paths]
        if unknown:
            raise AssignmentError(f"unknown assignment id(s) {', '.join(unknown)}; known: "
                                  f"{', '.join(paths) or '(none)'} (item banks in {items_dir})")
    return [load_bank(paths[i], facts) for i in (ids or list(paths))]


# --- notebook generation ------------------------------------------------------------------------

HOW_TO_ANSWER = """\
**答え方 / How to answer**

- 各問の下の灰色のセルにある `""` の中に答えを書きます。例: `q1_procedure = "B"`、`q2_deadline = "2025-04-18"`。
  Write each answer between the quotes in the grey cell under the question.
- 書いたら、メニューの **Run ▸ Run All Cells** で全体を実行し、書き方の確認メッセージが出ないことを確かめます。
  Then run all cells: a message appears only if an answer is written in the wrong form.
- 文章で答える問いは、「ここに回答を書いてください」のセルをダブルクリックして書きます。
  For written answers, double-click the cell that says "Write your answer here".
- 最後に **Assignments** タブで **Validate**、続けて **Submit** を押します。
  Finally press Validate, then Submit, in the Assignments tab.
"""


def _nbg(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None) -> dict:
    meta = {"grade": grade, "solution": solution, "locked": locked, "grade_id": grade_id,
            "schema_version": 3, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _literal(value: Any) -> str:
    return repr(value) if not isinstance(value, str) else '"' + value.replace('"', '\\"') + '"'


def _example(kind: str) -> str:
    return {"choice": '"B"', "order": '"C, A, B"', "date": '"2025-04-18"', "number": "500000",
            "text": '"…"'}[kind]


def build_notebook(bank: Bank) -> nbformat.NotebookNode:
    """The instructor (source) notebook for nbgrader, generated from the bank."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["coordkit"] = {"assignment": bank.id, "generated_from": f"graders/items/{bank.path.name}"}
    cells = []
    head = f"# {bank.title_ja}\n\n*{bank.title_en}*\n\n{bank.intro}\n\n{HOW_TO_ANSWER}"
    cells.append(nbformat.v4.new_markdown_cell(head, metadata=_nbg("header", grade=False, solution=False, locked=True)))
    if bank.case:
        cells.append(nbformat.v4.new_markdown_cell(bank.case, metadata=_nbg("case", grade=False, solution=False,
                                                                              locked=True)))
    for number, item in enumerate(bank.items, start=1):
        plural = "" if item.points == 1 else "s"
        title = (f"### 問{number}（{item.points:g}点） / Question {number} ({item.points:g} point{plural})"
                 f"\n\n{item.prompt}")
        if item.options:
            title += "\n\n" + "\n".join(f"- **{k}**: {v}" for k, v in item.options.items())
        cells.append(nbformat.v4.new_markdown_cell(
            title, metadata=_nbg(f"{item.grade_id}_prompt", grade=False, solution=False, locked=True)))
        if item.auto:
            answer_src = (f"# 問{number}: 答えを \"\" の中に書いてください。例: {item.grade_id} = {_example(item.kind)}\n"
                          f"{item.grade_id} = \"\"\n"
                          "### BEGIN SOLUTION\n"
                          f"{item.grade_id} = {_literal(item.key)}\n"
                          "### END SOLUTION")
            cells.append(nbformat.v4.new_code_cell(
                answer_src, metadata=_nbg(f"{item.grade_id}_answer", grade=False, solution=True, locked=False)))
            opts = f", options={item.letters!r}" if item.kind in ("choice", "order") else ""
            test_src = ("from coordkit.checks import answer\n"
                        f"_a = answer({item.grade_id!r}, {item.kind!r}, globals(){opts})\n"
                        "### BEGIN HIDDEN TESTS\n"
                        f"assert _a == {_literal(item.key)}\n"
                        "### END HIDDEN TESTS")
            cells.append(nbformat.v4.new_code_cell(
                test_src, metadata=_nbg(item.grade_id, grade=True, solution=False, locked=True, points=item.points)))
        else:
            body = item.model_answer or "(模範解答は採点基準を参照 / see the rubric)"
            cells.append(nbformat.v4.new_markdown_cell(
                f"**模範解答（採点者用） / Model answer (graders only)**\n\n{body}\n\n"
                f"*採点基準 / Rubric: graders/rubrics/{item.rubric}.yml*",
                metadata=_nbg(item.grade_id, grade=True, solution=True, locked=False, points=item.points)))
    nb.cells = cells
    for cell in nb.cells:            # stable ids: regenerating an unchanged bank changes nothing
        cell["id"] = cell.metadata["nbgrader"]["grade_id"].replace("_", "-")
    return nb


def write_source(bank: Bank, course_root: Path) -> tuple[Path, bool]:
    """Write assignments/source/<id>/<id>.ipynb; returns (path, changed)."""
    target = Path(course_root) / "source" / bank.id / f"{bank.id}.ipynb"
    text = nbformat.writes(build_notebook(bank)) + "\n"
    if target.is_file() and target.read_text(encoding="utf-8") == text:
        return target, False
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        from .errors import OutputError
        raise OutputError(f"cannot write {target} ({exc.strerror}); check the folder's permissions") from None
    return target, True
