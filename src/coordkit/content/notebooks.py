"""The nbgrader source notebook of an item bank: assignments/source/<id>/<id>.ipynb, generated from
graders/items/<id>.yml (coordkit.content.banks) so that nothing in it is typed by hand.

Per item: a locked prompt cell, an answer cell with an example of the form (never the key) and the
solution, and a locked hidden test that reads the answer through coordkit.checks (the kernel-side
reader released notebooks import) and compares it with the key; manual items get the model answer and
the rubric for graders. The last cell lists every answer whose form the grader cannot read. Cell ids
are stable, so regenerating an unchanged bank changes nothing."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import nbformat

from ..checks import EXAMPLES
from ..errors import OutputError
from .banks import Bank, Item
from .rubrics import render_markdown


def how_to_answer(bank: Bank) -> str:
    """The header's "how to answer" block. Its examples are this notebook's own questions, each
    with the example its answer cell shows (a value of the right kind, never the key)."""
    auto = [i for i in bank.items if i.auto]
    if not auto:
        return ""
    shown, kinds = [], set()
    for item in auto:                       # up to two examples, of different kinds where possible
        if item.kind not in kinds and len(shown) < 2:
            shown.append(item)
            kinds.add(item.kind)
    for item in auto:
        if len(shown) < 2 and item not in shown:
            shown.append(item)
    examples = "、".join(f"`{i.grade_id} = {example(i)}`" for i in shown)
    examples_en = ", ".join(f"`{i.grade_id} = {example(i)}`" for i in shown)
    forms_ja, forms_en = [], []
    if "date" in {i.kind for i in auto}:
        forms_ja.append("日付は `2025/4/18`、`2025年4月18日`、`令和7年4月18日` のようにも書けます。")
        forms_en.append("Dates may also be written 2025/4/18.")
    if "number" in {i.kind for i in auto}:
        forms_ja.append("金額や日数は数字だけで書きます。")
        forms_en.append("Amounts and numbers of days are written as digits.")
    if {"choice", "order"} & {i.kind for i in auto}:
        forms_ja.append("記号で答える問いは、選択肢の記号（A、B など）を書きます。")
        forms_en.append("Where the options have letters, write the letter(s).")
    return f"""\
**答え方 / How to answer**

- 各問の下の灰色のセルにある `""` の中に答えを書きます。例: {examples}（例は書き方の見本で、答えではありません）。
  {"".join(forms_ja)}
  Write each answer between the quotes in the grey cell under the question, e.g. {examples_en}
  (examples show the form only; they are not the answers). {" ".join(forms_en)}
- 書いたら、メニューの **Run ▸ Run All Cells** で全体を実行します。書き方を直すところがあれば、その問いの下と、
  最後のセルの一覧に出ます。
  Then run all cells (Run ▸ Run All Cells): any answer written in the wrong form is shown under its question
  and listed in the last cell.
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
    return repr(value) if not isinstance(value, str) else '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def example(item: Item) -> str:
    """The example shown in the answer cell, the header and the format messages. For choice and
    order items it is a letter (an arrangement) of the item's own options chosen by the grade_id alone,
    never by the key: an example that always avoided the key would rule out an option (with four
    options, a guess would be right one time in three instead of four). It may therefore equal the
    key by chance, which tells the trainee nothing. Other kinds have a fixed example that no key may
    equal (checked in the content tests)."""
    pick = zlib.crc32(item.grade_id.encode())
    if item.kind == "choice":
        letters = sorted(item.letters)
        return '"' + letters[pick % len(letters)] + '"'
    if item.kind != "order":
        return EXAMPLES[item.kind]
    letters = sorted(item.letters)
    arrangements = [letters[i:] + letters[:i] for i in range(len(letters))]
    arrangements += [list(reversed(a)) for a in arrangements]
    candidates = sorted({", ".join(a) for a in arrangements})
    return '"' + candidates[pick % len(candidates)] + '"'


def hidden_test(item: Item) -> str:
    """The hidden assertion: the normalised answer is a plain value of the key's type and equals
    the key (or one of the accepted answers)."""
    guard = f"type(_a) is {type(item.key).__name__}"
    if len(item.accept) > 1:
        return f"assert {guard} and _a in ({', '.join(_literal(a) for a in item.accept)})"
    return f"assert {guard} and _a == {_literal(item.key)}"


def _manual_cell(bank: Bank, item: Item) -> str:
    body = item.model_answer or "（模範解答は採点基準を参照 / see the rubric）"
    marking = (f"**模範解答（採点者用） / Model answer (graders only)**\n\n{body}\n\n"
               f"{render_markdown(bank.rubric.cell(item.grade_id))}")
    if not item.template:
        return marking       # nbgrader replaces the whole cell with the text stub on release
    return f"{item.template}\n\n### BEGIN SOLUTION\n{marking}\n### END SOLUTION"


ANSWERS_CHECK = "answers_check"      # grade_id of the last cell: the format of every answer, at once


def answers_check_source(auto: list[tuple[int, Item]]) -> str:
    """The last cell of a notebook with autograded answers: lists every answer whose form the grader
    cannot read (coordkit.checks.check_answers), in Japanese then English. Not graded."""
    rows = "\n".join(f"    ({number}, {item.grade_id!r}, {item.kind!r}, "
                     f"{item.letters if item.kind in ('choice', 'order') else ''!r}, {example(item)!r}),"
                     for number, item in auto)
    return ("# 答えの書き方の確認（全問）: 直すところがあれば、ここに一覧が出ます。\n"
            "# Checks how every answer is written: anything to fix is listed here.\n"
            "from coordkit.checks import check_answers\n"
            f"check_answers(globals(), [\n{rows}\n])")


def build_notebook(bank: Bank) -> nbformat.NotebookNode:
    """The instructor (source) notebook for nbgrader, generated from the bank."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["coordkit"] = {"assignment": bank.id, "generated_from": f"graders/items/{bank.path.name}"}
    cells = []
    how = how_to_answer(bank)
    head = f"# {bank.title_ja}\n\n*{bank.title_en}*\n\n{bank.intro}\n\n{how}".strip()
    cells.append(nbformat.v4.new_markdown_cell(head, metadata=_nbg("header", grade=False, solution=False, locked=True)))
    if bank.case:
        cells.append(nbformat.v4.new_markdown_cell(bank.case, metadata=_nbg("case", grade=False, solution=False,
                                                                              locked=True)))
    for number, item in enumerate(bank.items, start=1):
        if item.context:
            cells.append(nbformat.v4.new_markdown_cell(
                item.context, metadata=_nbg(f"{item.grade_id}_context", grade=False, solution=False, locked=True)))
        plural = "" if item.points == 1 else "s"
        title = (f"### 問{number}（{item.points:g}点） / Question {number} ({item.points:g} point{plural})"
                 f"\n\n{item.prompt}")
        if item.options:
            title += "\n\n" + "\n".join(f"- **{k}**: {v}" for k, v in item.options.items())
        cells.append(nbformat.v4.new_markdown_cell(
            title, metadata=_nbg(f"{item.grade_id}_prompt", grade=False, solution=False, locked=True)))
        if item.auto:
            answer_src = (f"# 問{number}: 答えを \"\" の中に書いてください。例: {item.grade_id} = {example(item)}\n"
                          f"{item.grade_id} = \"\"\n"
                          "### BEGIN SOLUTION\n"
                          f"{item.grade_id} = {_literal(item.key)}\n"
                          "### END SOLUTION")
            cells.append(nbformat.v4.new_code_cell(
                answer_src, metadata=_nbg(f"{item.grade_id}_answer", grade=False, solution=True, locked=False)))
            opts = f", options={item.letters!r}" if item.kind in ("choice", "order") else ""
            opts += f", example={example(item)!r}"     # the format message shows this item's example, never its key
            test_src = ("from coordkit.checks import answer\n"
                        f"_a = answer({item.grade_id!r}, {item.kind!r}, globals(){opts})\n"
                        "### BEGIN HIDDEN TESTS\n"
                        f"{hidden_test(item)}\n"
                        "### END HIDDEN TESTS")
            cells.append(nbformat.v4.new_code_cell(
                test_src, metadata=_nbg(item.grade_id, grade=True, solution=False, locked=True, points=item.points)))
        else:
            cells.append(nbformat.v4.new_markdown_cell(
                _manual_cell(bank, item),
                metadata=_nbg(item.grade_id, grade=True, solution=True, locked=False, points=item.points)))
    auto = [(number, item) for number, item in enumerate(bank.items, start=1) if item.auto]
    if auto:
        cells.append(nbformat.v4.new_code_cell(
            answers_check_source(auto), metadata=_nbg(ANSWERS_CHECK, grade=False, solution=False, locked=True)))
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
        raise OutputError(f"cannot write {target} ({exc.strerror}); check the folder's permissions") from None
    return target, True
