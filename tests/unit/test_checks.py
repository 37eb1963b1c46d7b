"""The answer-format checks a trainee meets in every test cell (coordkit.checks): lenient on how an
answer is written, silent on whether it is right, and closed to objects that pretend to be answers."""

import sys
import warnings

import pytest

from coordkit import checks
from coordkit.checks import AnswerFormatError, answer, normalize


@pytest.mark.parametrize("raw, kind, expected", [
    ("2025-04-14", "date", "2025-04-14"),
    ("2025/4/14", "date", "2025-04-14"),
    ("2025年4月14日", "date", "2025-04-14"),
    ("２０２５－０４－１４", "date", "2025-04-14"),
    ("令和7年4月14日", "date", "2025-04-14"),
    ("R7.4.14", "date", "2025-04-14"),
    ("令和元年5月1日", "date", "2019-05-01"),
    ("b", "choice", "B"),
    ("Ｂ", "choice", "B"),
    ("(C)", "choice", "C"),
    ("c, a b", "order", "C-A-B"),
    ("C→A→B", "order", "C-A-B"),
    ("500,000", "number", 500000),
    ("50万円", "number", 500000),
    ("¥15,000", "number", 15000),
    ("14日", "number", 14),
    ("3か月", "number", 3),
    ("4つ", "number", 4),
    (500000, "number", 500000),
    (7.0, "number", 7),
    ("在留 カード。", "text", "在留カード"),
    ("「ハローワーク」", "text", "ハローワーク"),
    ("Residence Card", "text", "residencecard"),
])
def test_usual_ways_of_writing_an_answer_are_accepted(raw, kind, expected):
    value = normalize(raw, kind)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("kind", ["choice", "order", "date", "number", "text"])
def test_normal_forms_are_stable(kind):
    # the simulator and the hidden tests write a key back into a notebook: it must normalise to itself
    raw = {"choice": "d", "order": "b a c", "date": "2026/1/5", "number": "1,500円", "text": "一元的 相談窓口"}[kind]
    once = normalize(raw, kind)
    assert normalize(once, kind) == once


@pytest.mark.parametrize("raw, kind", [
    ("", "date"), ("  ", "choice"), ("4月中旬", "date"), ("2025-02-30", "date"), ("令和7年2月30日", "date"),
    ("E", "choice"), ("BとC", "choice"), ("約5万", "number"), ("10〜20", "number"), ("nan", "number"),
    ("A, A", "order"), ("A, E", "order"), (None, "choice"), (["B"], "choice"), ("。", "text"),
])
def test_malformed_answers_get_a_message_with_an_example(raw, kind):
    with pytest.raises(AnswerFormatError) as info:
        normalize(raw, kind, name="q1_x")
    message = str(info.value)
    assert "q1_x" in message and "例:" in message and "Example:" in message
    assert "答えが正しいかどうかは" in message   # says it checks the format only


def test_choice_letters_follow_the_item_options():
    assert normalize("e", "choice", options="ABCDE") == "E"
    with pytest.raises(AnswerFormatError, match="A・B・C"):
        normalize("D", "choice", options="ABC")


class _Sneaky(str):
    def __eq__(self, other):
        return True

    __hash__ = str.__hash__


class _Always:
    def __eq__(self, other):
        return True


class _Number(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


@pytest.mark.parametrize("value", [_Sneaky("Z"), _Always(), _Number(1), True])
@pytest.mark.parametrize("kind", ["choice", "date", "number", "text"])
def test_objects_that_pretend_to_equal_anything_are_not_answers(value, kind):
    with pytest.raises(AnswerFormatError):
        normalize(value, kind)


def test_a_deleted_answer_line_is_reported_by_name():
    with pytest.raises(AnswerFormatError, match="q2_where の答えが見つかりません。Run ▸ Run All Cells"):
        answer("q2_where", "choice", {})


def test_answer_reads_the_notebook_namespace():
    assert answer("q3_deadline", "date", {"q3_deadline": "2025/4/18"}) == "2025-04-18"
    assert answer("q4_order", "order", {"q4_order": "c,b,a"}, options="ABC") == "C-B-A"


def test_a_warning_raised_while_checking_never_reaches_stderr(monkeypatch, capfd):
    real = checks.normalize

    def noisy(*args, **kwargs):
        warnings.warn("a library warning", UserWarning)
        return real(*args, **kwargs)

    monkeypatch.setattr(checks, "normalize", noisy)
    with warnings.catch_warnings():
        warnings.simplefilter("always")          # as a fresh kernel would show it
        assert answer("q1", "choice", {"q1": "b"}) == "B"
    sys.stderr.flush()
    assert capfd.readouterr().err == ""



def test_the_notebook_shows_the_message_not_a_traceback():
    # IPython (the notebook, and `nbgrader validate` through it) renders _render_traceback_
    with pytest.raises(AnswerFormatError) as info:
        answer("q9_order", "order", {"q9_order": "A, A"}, options="ABC", example='"B, A, C"')
    shown = info.value._render_traceback_()
    assert shown[0].startswith("答えの書き方を確認してください")
    assert not any("Traceback" in line or "checks.py" in line for line in shown)
    assert '例: q9_order = "B, A, C"' in "\n".join(shown)


# --- the grader reads answers as data -------------------------------------------------------------

from coordkit.checks import read_answer_cell  # noqa: E402


@pytest.mark.parametrize("source, values, ignored, unreadable", [
    ('# 問1\nq1 = "2025-04-14"\n', {"q1": "2025-04-14"}, [], []),
    ('q1 = ""\nq1 = "B"', {"q1": "B"}, [], []),                                  # the last line counts
    ("q1 = -5_000", {"q1": -5000}, [], []),
    ("q1 = 1.5", {"q1": 1.5}, [], []),
    ('import os\nq1 = "B"\nprint(q1)', {"q1": "B"}, [(1, "import os"), (3, "print(q1)")], []),
    ('q1 = "2025-04-" + "14"', {}, [(1, 'q1 = "2025-04-" + "14"')], ["q1"]),
    ('q1 = "B"\nq1 = input()', {}, [(2, "q1 = input()")], ["q1"]),
    ('q1 = b"B"', {}, [(1, 'q1 = b"B"')], ["q1"]),                              # bytes are not an answer
    ("q1 = True", {}, [(1, "q1 = True")], ["q1"]),
    ('q1 = ["B"]', {}, [(1, 'q1 = ["B"]')], ["q1"]),
    ('q2 = "B"', {}, [(1, 'q2 = "B"')], []),                                    # not this cell's name
    ("q1 = q2 = 'B'", {}, [(1, "q1 = q2 = 'B'")], []),
    ("class X(str): pass\nq1 = X('B')", {}, [(1, "class X(str): pass"), (2, "q1 = X('B')")], ["q1"]),
])
def test_answers_are_read_as_literals_and_everything_else_is_listed(source, values, ignored, unreadable):
    read = read_answer_cell(source, ["q1"])
    assert (read.values, read.ignored, read.unreadable, read.error) == (values, ignored, unreadable, None)
    assert all(type(v) in (str, int, float) for v in read.values.values())


@pytest.mark.parametrize("source, why", [
    ('q1 = "2025-04-14', "not valid Python (line 1)"),
    ("q1 = " + "(" * 1000 + "1" + ")" * 1000, "not valid Python"),
    ("x = 1\n" * 5000, "characters (an answer is one line)"),
    (None, "not text"),
])
def test_an_unreadable_cell_gives_no_answer_and_says_why(source, why):
    read = read_answer_cell(source, ["q1"])
    assert read.values == {} and why in read.error


def test_validate_says_when_an_answer_is_code_the_grader_would_not_read(monkeypatch):
    """In nbgrader validate (which sets NBGRADER_EXECUTION), `In` holds the cells the kernel ran."""
    monkeypatch.setenv("NBGRADER_EXECUTION", "validate")
    computed = {"q1": "2025-04-14", "In": ["", 'q1 = "2025-04-" + "14"', "from coordkit.checks import answer"]}
    with pytest.raises(AnswerFormatError, match="not a calculation or code") as info:
        answer("q1", "date", computed)
    assert "2025-04-14" not in str(info.value).replace("2025-04-18", "")      # the key is never shown
    literal = {"q1": "2025-04-14", "In": ["", 'import os\nq1 = "2025-04-14"', "x = 1"]}
    assert answer("q1", "date", literal) == "2025-04-14"
    assert answer("q1", "date", {"q1": "2025/4/14"}) == "2025-04-14"              # no IPython: as before


# --- the trainee's own run: every malformed answer at once --------------------------------------------

from coordkit.checks import Malformed, check_answers  # noqa: E402

_QUESTIONS = [(1, "q1_notice_deadline", "date", "", '"2025-04-18"'),
              (2, "q2_where", "choice", "ABC", '"C"'),
              (3, "q3_steps", "order", "ABC", '"B, C, A"'),
              (4, "q4_amount", "number", "", "12345")]


def test_in_the_trainees_run_a_malformed_answer_is_shown_and_run_all_goes_on(monkeypatch, capsys):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    ns = {"In": ["", 'q2_where = "BとC"'], "q2_where": "BとC"}
    value = answer("q2_where", "choice", ns, options="ABC", example='"C"')   # does not raise
    shown = capsys.readouterr().out
    assert isinstance(value, Malformed) and value != "B" and not value and type(value) not in (str, int, float)
    assert "【q2_where】A・B・C のどれか1文字を書いてください。" in shown
    assert '例: q2_where = "C"' in shown and "[q2_where] Write one letter, one of A, B, C." in shown
    assert shown.index("【q2_where】") < shown.index("[q2_where]")        # Japanese first
    assert "最後のセル" in shown and "last cell" in shown


@pytest.mark.parametrize("execution", ["validate", "autograde"])
def test_under_nbgrader_a_malformed_answer_still_fails_its_test(monkeypatch, execution):
    monkeypatch.setenv("NBGRADER_EXECUTION", execution)
    with pytest.raises(AnswerFormatError, match="q2_where"):
        answer("q2_where", "choice", {"In": [""], "q2_where": ""}, options="ABC")


def test_the_grader_reads_without_ipython_and_a_malformed_answer_raises(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    with pytest.raises(AnswerFormatError):          # coordkit grade runs the tests in a plain namespace
        answer("q2_where", "choice", {"q2_where": "Z"}, options="ABC")


def test_the_last_cell_lists_every_malformed_answer_in_japanese_then_english(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    ns = {"In": [""], "q1_notice_deadline": "4月中旬", "q2_where": "B", "q3_steps": "A, A"}   # q4 deleted
    result = check_answers(ns, _QUESTIONS)
    text = str(result)
    assert not result.ok and [n for n, _ in result.problems] == [1, 3, 4]
    assert [p.name for _, p in result.problems] == ["q1_notice_deadline", "q3_steps", "q4_amount"]
    assert "直すところが 3 問" in text and "3 answers must be fixed" in text
    for number, name, example in [(1, "q1_notice_deadline", '"2025-04-18"'), (3, "q3_steps", '"B, C, A"'),
                                  (4, "q4_amount", "12345")]:
        ja, en = text.index(f"問{number} 【{name}】"), text.index(f"Question {number} [{name}]")
        assert ja < en and f"例: {name} = {example}" in text and f"Example: {name} = {example}" in text
    assert "q2_where" not in text                                    # a well-formed answer is not listed
    assert text.index("問4") < text.index("Question 1")           # every Japanese line, then the English


def test_the_last_cell_says_when_every_answer_can_be_read():
    ns = {"q1_notice_deadline": "2025/4/18", "q2_where": "b", "q3_steps": "C A B", "q4_amount": "5万円"}
    result = check_answers(ns, _QUESTIONS)
    assert result.ok and result.checked == [(1, "q1_notice_deadline"), (2, "q2_where"), (3, "q3_steps"),
                                            (4, "q4_amount")]
    assert "全4問" in str(result) and "All 4 answers" in str(result) and "Validate" in str(result)


def test_the_last_cell_reports_an_answer_written_as_code():
    ns = {"In": ["", 'q1_notice_deadline = "2025-04-" + "18"'], "q1_notice_deadline": "2025-04-18"}
    result = check_answers(ns, _QUESTIONS[:1])
    assert [p.name for _, p in result.problems] == ["q1_notice_deadline"]
    assert "not a calculation or code" in str(result)
