"""Answer-format checks that run in the trainee's notebook (in the visible part of each test cell).

Trainees are consultation staff, not programmers: each answer is one line such as
`q3_deadline = "2025-04-18"` or `q1_procedure = "B"`. These checks accept the usual ways of writing
a date, a letter or an amount, tell the trainee in plain Japanese and English when an answer is
malformed, and never say whether it is right. They return the answer in one normal form, which the
hidden tests compare with the key.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import warnings

KINDS = ("choice", "order", "date", "number", "text")

_EXAMPLES = {
    "choice": '"B"',
    "order": '"C, A, B"',
    "date": '"2025-04-18"',
    "number": "500000",
    "text": '"市区町村の窓口"',
}


class AnswerFormatError(AssertionError):
    """The answer is missing or malformed (not: wrong)."""


def _fail(name: str, kind: str, why_ja: str, why_en: str) -> None:
    example = _EXAMPLES[kind]
    raise AnswerFormatError(
        f"\n【{name}】{why_ja}\n  例: {name} = {example}\n"
        f"[{name}] {why_en}\n  Example: {name} = {example}\n"
        "（これは書き方の確認です。答えが正しいかどうかは、提出後の採点でわかります。/"
        " This checks the format only; whether the answer is right is known after grading.)")


def _plain(value: object) -> object:
    """Only plain built-in values count; objects that pretend to equal anything do not."""
    if type(value) in (str, int, float):
        return value
    return None


def normalize(value: object, kind: str, *, name: str = "answer", options: str = "ABCD") -> object:
    """The answer in normal form, or AnswerFormatError saying how to write it."""
    if kind not in KINDS:
        raise ValueError(f"unknown answer kind {kind!r}; use one of {KINDS}")
    raw = _plain(value)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        _fail(name, kind, "まだ答えが書かれていません。\"\" の中に答えを書いてください。",
              "No answer yet: write it between the quotes.")
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    if kind == "choice":
        letter = text.upper().strip("()（）. ")
        if len(letter) != 1 or letter not in options:
            _fail(name, kind, f"{'・'.join(options)} のどれか1文字を書いてください。",
                  f"Write one letter, one of {', '.join(options)}.")
        return letter
    if kind == "order":
        letters = [c for c in text.upper() if c.isalpha()]
        if not letters or any(c not in options for c in letters) or len(set(letters)) != len(letters):
            _fail(name, kind, f"{'・'.join(options)} の記号を、順番に、重ならないように並べてください。",
                  f"List letters from {', '.join(options)} in order, each at most once.")
        return "-".join(letters)
    if kind == "date":
        match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text)
        if not match:
            _fail(name, kind, "日付は 年-月-日 の形で書いてください。", "Write the date as year-month-day.")
        try:
            return dt.date(*map(int, match.groups())).isoformat()
        except ValueError:
            _fail(name, kind, "その日付は暦にありません。", "That date does not exist in the calendar.")
    if kind == "number":
        cleaned = re.sub(r"[,\s円¥]", "", text)
        factor = 1
        if cleaned.endswith("万"):
            factor, cleaned = 10000, cleaned[:-1]
        try:
            number = float(cleaned) * factor
        except ValueError:
            _fail(name, kind, "数字だけで書いてください（単位や「約」は不要です）。",
                  "Write digits only (no units, no 'about').")
        return int(number) if float(number).is_integer() else float(number)
    return re.sub(r"\s+", " ", text)


def answer(name: str, kind: str, namespace: dict, *, options: str = "ABCD") -> object:
    """Read the answer variable `name` from the notebook's namespace and normalise it.

    Library warnings raised while checking are swallowed so that they can never reach stderr and
    zero a correct answer (nbgrader scores any stderr output in a test cell as a failure)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name not in namespace:
            _fail(name, kind, f"{name} の行が見つかりません。消してしまった場合は、元の行を書き直してください。",
                  f"The line for {name} is missing; write it again.")
        return normalize(namespace[name], kind, name=name, options=options)
