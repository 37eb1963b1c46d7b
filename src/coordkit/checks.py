"""Answer-format checks that run in the trainee's notebook (in the visible part of each test cell).

Trainees are consultation staff, not programmers: each answer is one line such as
`q3_deadline = "2025-04-18"` or `q1_procedure = "B"`. These checks accept the usual ways of writing
a date, a letter, an amount or a short term, tell the trainee in plain Japanese and English when an
answer is malformed, and never say whether it is right. They return the answer in one normal form,
which the hidden tests compare with the key (or with the list of accepted answers).

Normal forms:

- choice: one upper-case letter ("B"); order: letters joined by hyphens ("C-A-B");
- date: ISO "2025-04-14" (also read: 2025/4/14, 2025年4月14日, 令和7年4月14日, R7.4.14);
- number: int (or float), with separators, yen signs, 万 and a trailing unit such as 日, か月, 円, つ
  removed ("50万円" -> 500000, "14日" -> 14, "4つ" -> 4);
- text: NFKC, case-folded, without spaces or punctuation ("在留 カード。" -> "在留カード").

Only plain built-in values are answers: a str subclass or an object with its own __eq__ never
reaches the hidden test (see _plain).

The grader reads the same answers as data, without running the notebook: read_answer_cell() takes
the source of an answer cell and returns the value of each answer line (`name = <literal>`, read
with ast.literal_eval), and lists every other statement, which is not scored. In JupyterLab,
answer() applies the same rule to the cell the trainee ran, so Validate says when an answer is
written as code (a calculation, a function call) that the grader would not read.

Where a malformed answer shows (every message names the notebook's own question and shows that
question's example, never its key; Japanese first, then English):

- in the trainee's own run (JupyterLab, Run All): under its question, and "Run All" goes on (answer()
  prints the message and returns a Malformed value that no test accepts); the notebook's last cell
  (check_answers) lists every malformed answer at once;
- under nbgrader (validate, autograde; they set NBGRADER_EXECUTION) and in coordkit's grader (no
  IPython): the test cell raises AnswerFormatError, so Validate lists each one and it scores 0.
"""

from __future__ import annotations

import ast
import os
import datetime as dt
import re
import unicodedata
import warnings
from dataclasses import dataclass, field

KINDS = ("choice", "order", "date", "number", "text")

EXAMPLES = {
    "choice": '"B"',
    "order": '"C, A, B"',
    "date": '"2025-04-18"',
    "number": "12345",
    "text": '"市区町村の窓口"',
}

_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_REIWA = re.compile(r"(?:令和|R)\s*(元|\d{1,2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", re.I)
_REIWA_OFFSET = 2018                      # 令和1年 = 2019
_UNITS = ("日間", "日", "か月間", "か月", "ヶ月", "ヵ月", "カ月", "箇月", "年間", "年", "時間", "人", "件",
          "歳", "才", "科目", "円", "%", "つ", "個", "回")
_TEXT_DROP = re.compile(r"[\s\"'`「」『』（）()\[\]【】、。，．,.・:：;；!！?？]+")


@dataclass(frozen=True)
class Problem:
    """What is wrong with one answer's form, and how to write it (never whether it is right)."""

    name: str
    kind: str
    why_ja: str
    why_en: str
    example: str

    def lines_ja(self) -> list[str]:
        return [f"【{self.name}】{self.why_ja}", f"  例: {self.name} = {self.example}"]

    def lines_en(self) -> list[str]:
        return [f"[{self.name}] {self.why_en}", f"  Example: {self.name} = {self.example}"]


FORMAT_ONLY = ("（これは書き方の確認です。答えが正しいかどうかは、提出後の採点でわかります。）\n"
               "(This checks the format only; whether the answer is right is known after grading.)")


class AnswerFormatError(AssertionError):
    """The answer is missing or malformed (not: wrong). `problems` lists each answer at fault."""

    def __init__(self, message: str, problems: tuple[Problem, ...] = ()):
        super().__init__(message)
        self.problems = tuple(problems)

    def _render_traceback_(self) -> list[str]:
        """What IPython (and so the notebook and `nbgrader validate`) shows: the message alone,
        not a Python traceback a trainee cannot read."""
        return ["答えの書き方を確認してください / Please check how the answer is written:",
                *str(self).strip("\n").splitlines()]


def _fail(name: str, kind: str, why_ja: str, why_en: str, example: str | None = None) -> None:
    problem = Problem(name, kind, why_ja, why_en, example or EXAMPLES[kind])
    raise AnswerFormatError("\n" + "\n".join([*problem.lines_ja(), *problem.lines_en()]) + "\n" + FORMAT_ONLY,
                            (problem,))


def _plain(value: object) -> object:
    """Only plain built-in values count; objects that pretend to equal anything do not."""
    if type(value) in (str, int, float):
        return value
    return None


def _date(text: str, name: str) -> str:
    reiwa = _REIWA.fullmatch(text)
    match = reiwa or _DATE.fullmatch(text)
    if not match:
        _fail(name, "date", "日付は 年-月-日 の形で書いてください。", "Write the date as year-month-day.")
    year, month, day = match.groups()
    year = _REIWA_OFFSET + (1 if year == "元" else int(year)) if reiwa else int(year)
    try:
        return dt.date(year, int(month), int(day)).isoformat()
    except ValueError:
        _fail(name, "date", "その日付は暦にありません。", "That date does not exist in the calendar.")


def _number(text: str, name: str) -> int | float:
    cleaned = re.sub(r"[,\s¥]", "", text)
    for unit in _UNITS:
        if cleaned.endswith(unit) and len(cleaned) > len(unit):
            cleaned = cleaned[: -len(unit)]
            break
    factor = 1
    if cleaned.endswith("万"):
        factor, cleaned = 10000, cleaned[:-1]
    try:
        number = float(cleaned) * factor
    except ValueError:
        _fail(name, "number", "数字だけで書いてください（「約」や「〜」は不要です）。",
              "Write digits only (no 'about', no ranges).")
    if number != number or number in (float("inf"), float("-inf")):
        _fail(name, "number", "数字だけで書いてください。", "Write digits only.")
    return int(number) if float(number).is_integer() else float(number)


def normalize(value: object, kind: str, *, name: str = "answer", options: str = "ABCD",
              example: str | None = None) -> object:
    """The answer in normal form, or AnswerFormatError saying how to write it (with `example`, or
    the kind's standard example)."""
    if kind not in KINDS:
        raise ValueError(f"unknown answer kind {kind!r}; use one of {KINDS}")
    raw = _plain(value)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        _fail(name, kind, "まだ答えが書かれていません。\"\" の中に答えを書いてください。",
              "No answer yet: write it between the quotes.", example)
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    if kind == "choice":
        letter = text.upper().strip("()（）. ")
        if len(letter) != 1 or letter not in options:
            _fail(name, kind, f"{'・'.join(options)} のどれか1文字を書いてください。",
                  f"Write one letter, one of {', '.join(options)}.", example)
        return letter
    if kind == "order":
        letters = [c for c in text.upper() if c.isalpha()]
        if not letters or any(c not in options for c in letters) or len(set(letters)) != len(letters):
            _fail(name, kind, f"{'・'.join(options)} の記号を、順番に、重ならないように並べてください。",
                  f"List letters from {', '.join(options)} in order, each at most once.", example)
        return "-".join(letters)
    if kind == "date":
        return _date(text, name)
    if kind == "number":
        return _number(text, name)
    folded = _TEXT_DROP.sub("", text.casefold())
    if not folded:
        _fail(name, kind, "ことばで答えてください。", "Answer in words.", example)
    return folded


MAX_CELL_CHARS = 20_000              # an answer cell longer than this is not read (an answer is one line)
MAX_LITERAL_CHARS = 2_000            # nor is an answer longer than this


@dataclass
class AnswerCell:
    """What the grader reads from one answer cell: the answers (name -> value) and, for the notes,
    each statement that is not an answer line (line number, the statement's first line)."""

    values: dict = field(default_factory=dict)
    ignored: list = field(default_factory=list)       # [(line, text)]
    unreadable: list = field(default_factory=list)    # answer names assigned something that is not a literal
    error: str | None = None                          # why the cell could not be read at all


def _first_line(source: str, node: ast.AST) -> str:
    text = ast.get_source_segment(source, node) or type(node).__name__
    line = text.strip().splitlines()[0] if text.strip() else type(node).__name__
    return line[:80] + ("…" if len(line) > 80 else "")


def read_answer_cell(source: str, names) -> AnswerCell:
    """The answers in an answer cell's source, read as data (nothing is run).

    An answer line assigns one literal (a string or a number, as ast.literal_eval reads it) to one
    of `names`; when a name is assigned more than once, the last line counts, as it would when the
    cell runs. Every other statement (code, a calculation, an assignment to another name) is listed
    in `ignored`; an answer name assigned something other than a literal is listed in `unreadable`
    and has no value. Comments and blank lines are not statements."""
    names = set(names)
    found = AnswerCell()
    if not isinstance(source, str):
        found.error = "the cell's source is not text"
        return found
    if len(source) > MAX_CELL_CHARS:
        found.error = f"the cell holds {len(source)} characters (an answer is one line); not read"
        return found
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        line = getattr(exc, "lineno", None)
        found.error = f"the cell is not valid Python{f' (line {line})' if line else ''}; not read"
        return found
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None
        if isinstance(target, ast.Name) and target.id in names:
            segment = ast.get_source_segment(source, node.value) or ""
            try:
                if len(segment) > MAX_LITERAL_CHARS:
                    raise ValueError("too long")
                value = ast.literal_eval(node.value)
                if type(value) not in (str, int, float):          # an answer is a string or a number
                    raise ValueError(type(value).__name__)
            except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
                found.values.pop(target.id, None)
                found.unreadable.append(target.id)
                found.ignored.append((node.lineno, _first_line(source, node)))
                continue
            found.values[target.id] = value
            if target.id in found.unreadable:
                found.unreadable.remove(target.id)
        else:
            found.ignored.append((node.lineno, _first_line(source, node)))
    return found


def _ran_as_code(name: str, namespace: dict) -> bool:
    """In IPython (JupyterLab, nbgrader validate): was the last cell that assigned `name` an answer
    line the grader can read? The cell history (`In`) is in the namespace; elsewhere, say yes."""
    history = namespace.get("In")
    if not isinstance(history, list):
        return False
    for source in reversed(history):
        if not isinstance(source, str) or name not in source:
            continue
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        assigns = [n for n in tree.body if isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and any(
            isinstance(t, ast.Name) and t.id == name for t in getattr(n, "targets", [getattr(n, "target", None)]))]
        if not assigns:
            continue
        return name in read_answer_cell(source, [name]).unreadable or not isinstance(assigns[-1], ast.Assign)
    return False


def _trainee_run(namespace: dict) -> bool:
    """True in the trainee's own JupyterLab: an IPython namespace (its cell history `In` is there)
    that neither nbgrader's validate nor its autograde is running (both set NBGRADER_EXECUTION in
    the kernel's environment). Everywhere else a malformed answer raises, so its test scores 0."""
    return isinstance(namespace.get("In"), list) and not os.environ.get("NBGRADER_EXECUTION")


class Malformed:
    """What answer() gives in the trainee's notebook for an answer the grader cannot read, after
    showing the message: it equals nothing and is no str, int or float, so no test passes on it."""

    __slots__ = ("problem",)
    __hash__ = object.__hash__

    def __init__(self, problem: Problem | None):
        self.problem = problem

    def __eq__(self, other: object) -> bool:
        return False

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "<書き方を直してください / fix how this answer is written>"


def _check(name: str, kind: str, namespace: dict, *, options: str, example: str | None) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name not in namespace:
            _fail(name, kind, f"{name} の答えが見つかりません。Run ▸ Run All Cells で全体を実行してください。"
                  "答えの行を消してしまった場合は、元の行を書き直してください。",
                  f"No answer {name} was found: run all cells (Run ▸ Run All Cells); if you deleted its line, "
                  "write it again.", example)
        if _ran_as_code(name, namespace):
            _fail(name, kind, "答えは計算や関数ではなく、値をそのまま1行で書いてください（採点では値だけが読まれます）。",
                  "Write the answer itself on one line, not a calculation or code (grading reads only the value).",
                  example)
        return normalize(namespace[name], kind, name=name, options=options, example=example)


def answer(name: str, kind: str, namespace: dict, *, options: str = "ABCD", example: str | None = None) -> object:
    """Read the answer variable `name` from the notebook's namespace and normalise it.

    A malformed answer raises AnswerFormatError (its test scores 0, and `nbgrader validate` shows the
    message), except in the trainee's own run of the notebook (see _trainee_run): there the message
    is printed and a Malformed value is returned, so "Run All" goes on to the next question and the
    last cell (check_answers) lists every answer to fix.

    Library warnings raised while checking are swallowed so that they can never reach stderr and
    zero a correct answer (nbgrader scores any stderr output in a test cell as a failure; the
    course configuration also drops stderr from graded cells, see assignments/nbgrader_config.py)."""
    try:
        return _check(name, kind, namespace, options=options, example=example)
    except AnswerFormatError as exc:
        if not _trainee_run(namespace):
            raise
        print("\n".join(exc._render_traceback_()))
        print("（最後のセルに、直すところの一覧が出ます。 / The last cell lists every answer to fix.）")
        return Malformed(exc.problems[0] if exc.problems else None)


@dataclass
class AnswersCheck:
    """The result of check_answers: the answers checked and what is wrong with each malformed one.
    In a notebook it shows as the bilingual list (Japanese, then English)."""

    checked: list = field(default_factory=list)        # [(number, name)]
    problems: list = field(default_factory=list)       # [(number, Problem)]

    @property
    def ok(self) -> bool:
        return not self.problems

    def text(self) -> str:
        n = len(self.checked)
        if self.ok:
            return (f"全{n}問の答えの書き方を確認しました。直すところはありません。"
                    "次に Assignments タブで Validate、Submit を押してください。\n"
                    f"All {n} answers are written in a form the grader can read. "
                    "Next, press Validate, then Submit, in the Assignments tab.\n" + FORMAT_ONLY)
        k = len(self.problems)
        ja = [f"答えの書き方を直すところが {k} 問あります。それぞれの問いの答えのセルを直し、"
              "もう一度 Run ▸ Run All Cells で全体を実行してください。"]
        en = [f"{k} answer{'s' if k > 1 else ''} must be fixed: correct {'each' if k > 1 else 'the'} answer cell "
              "below, then run all cells again (Run ▸ Run All Cells)."]
        for number, problem in self.problems:
            ja += [f"問{number} " + problem.lines_ja()[0], problem.lines_ja()[1]]
            en += [f"Question {number} " + problem.lines_en()[0], problem.lines_en()[1]]
        return "\n".join([*ja, "", *en, "", FORMAT_ONLY])

    def __str__(self) -> str:
        return self.text()

    def _repr_pretty_(self, printer, cycle) -> None:       # what IPython shows as the cell's result
        printer.text(self.text())


def check_answers(namespace: dict, questions) -> AnswersCheck:
    """Check the form of every autograded answer of a notebook at once (the notebook's last cell).

    `questions` lists (number, name, kind, options, example) for each answer, in order; `options`
    is "" for kinds without letters. Nothing is raised: the result lists each malformed answer with
    its question, what is wrong and an example of this question's own (never its key)."""
    result = AnswersCheck()
    for number, name, kind, options, example in questions:
        result.checked.append((number, name))
        try:
            _check(name, kind, namespace, options=options or "ABCD", example=example or None)
        except AnswerFormatError as exc:
            for problem in exc.problems:
                result.problems.append((number, problem))
    return result
