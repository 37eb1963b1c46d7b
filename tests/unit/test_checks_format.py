"""The answer-format checks a trainee meets (coordkit.checks): lenient on the way an answer is
written, silent on whether it is right."""

import pytest

from coordkit.checks import AnswerFormatError, answer, normalize


@pytest.mark.parametrize("raw, kind, expected", [
    ("2025-04-14", "date", "2025-04-14"),
    ("2025/4/14", "date", "2025-04-14"),
    ("2025年4月14日", "date", "2025-04-14"),
    ("２０２５－０４－１４", "date", "2025-04-14"),
    ("b", "choice", "B"),
    ("Ｂ", "choice", "B"),
    ("(C)", "choice", "C"),
    ("500,000", "number", 500000),
    ("50万", "number", 500000),
    ("¥15,000", "number", 15000),
    (500000, "number", 500000),
    ("c, a b", "order", "C-A-B"),
])
def test_usual_ways_of_writing_an_answer_are_accepted(raw, kind, expected):
    assert normalize(raw, kind) == expected


@pytest.mark.parametrize("raw, kind", [
    ("", "date"), ("4月中旬", "date"), ("2025-02-30", "date"),
    ("E", "choice"), ("BとC", "choice"), ("約5万", "number"), ("A, A", "order"), (None, "choice"),
])
def test_malformed_answers_get_a_message_with_an_example(raw, kind):
    with pytest.raises(AnswerFormatError) as info:
        normalize(raw, kind, name="q1_x")
    message = str(info.value)
    assert "q1_x" in message and "例:" in message and "Example:" in message


def test_objects_that_pretend_to_equal_anything_are_not_answers():
    class Sneaky(str):
        def __eq__(self, other):
            return True

    class Always:
        def __eq__(self, other):
            return True

    for value in (Sneaky("Z"), Always()):
        with pytest.raises(AnswerFormatError):
            normalize(value, "choice")


def test_a_deleted_answer_line_is_reported_by_name():
    with pytest.raises(AnswerFormatError, match="q2_where の行が見つかりません"):
        answer("q2_where", "choice", {})


def test_the_message_never_contains_the_key():
    # the check knows nothing of the key: the same message for any wrong-format answer
    with pytest.raises(AnswerFormatError) as a:
        normalize("", "date", name="q1")
    with pytest.raises(AnswerFormatError) as b:
        normalize("", "date", name="q1")
    assert str(a.value) == str(b.value)
