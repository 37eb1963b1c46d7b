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
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import warnings

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


class AnswerFormatError(AssertionError):
    """The answer is missing or malformed (not: wrong)."""

    def _render_traceback_(self) -> list[str]:
        """What IPython (and so the notebook and `nbgrader validate`) shows: the message alone,
        not a Python traceback a trainee cannot read."""
        return ["答えの書き方を確認してください / Please check how the answer is written:",
                *str(self).strip("\n").splitlines()]


def _fail(name: str, kind: str, why_ja: str, why_en: str, example: str | None = None) -> None:
    example = example or EXAMPLES[kind]
    raise AnswerFormatError(
        f"\n【{name}】{why_ja}\n  例: {name} = {example}\n"
        f"[{name}] {why_en}\n  Example: {name} = {example}\n"
        "（これは書き方の確認です。答えが正しいかどうかは、提出後の採点でわかります。）\n"
        "(This checks the format only; whether the answer is right is known after grading.)")


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


def answer(name: str, kind: str, namespace: dict, *, options: str = "ABCD", example: str | None = None) -> object:
    """Read the answer variable `name` from the notebook's namespace and normalise it.

    Library warnings raised while checking are swallowed so that they can never reach stderr and
    zero a correct answer (nbgrader scores any stderr output in a test cell as a failure; the
    course configuration also drops stderr from graded cells, see assignments/nbgrader_config.py)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name not in namespace:
            _fail(name, kind, f"{name} の行が見つかりません。消してしまった場合は、元の行を書き直してください。",
                  f"The line for {name} is missing; write it again.", example)
        return normalize(namespace[name], kind, name=name, options=options, example=example)
