"""Self-check kinds: what counts as right, and what the web book's form carries."""

import json
import re

import pytest

from coordkit.book.selfcheck import MultiSelect, Question, SelfCheck, ShortAnswer, TrueFalse, normalise


def test_each_kind_accepts_its_right_answer_only():
    q = Question("p", ("a", "b", "c"), answer=2)
    assert q.correct(2) and not q.correct(1)
    m = MultiSelect("p", ("a", "b", "c", "d"), answers=(0, 3))
    assert m.correct((3, 0)) and not m.correct((0,)) and not m.correct((0, 1, 3))
    t = TrueFalse("p", answer=False)
    assert t.correct(1) and not t.correct(0)
    s = ShortAnswer("p", accepted=("14日", "十四日"))
    assert s.correct("１４ 日") and s.correct("十四日") and not s.correct("15日") and not s.correct("")


def test_typed_answers_compare_full_width_and_spaces_alike():
    assert normalise(" ＡＢＣ　１２ ") == normalise("abc12") == "abc12"


@pytest.mark.parametrize("bad", [
    lambda: Question("p", ("a", "b"), answer=2),
    lambda: Question("p", ("a",), answer=0),
    lambda: MultiSelect("p", ("a", "b", "c"), answers=()),
    lambda: MultiSelect("p", ("a", "b", "c"), answers=(0, 0)),
    lambda: TrueFalse("p", answer=1),
    lambda: ShortAnswer("p", accepted=(" ",)),
])
def test_a_malformed_question_is_refused_when_the_page_runs(bad):
    with pytest.raises(ValueError):
        SelfCheck("t", [bad()])


def test_the_web_form_carries_each_key_and_folds_the_answers():
    check = SelfCheck("確認", [Question("p", ("a", "b"), answer=1, explanation="why"),
                               ShortAnswer("s", accepted=("１４日",)), TrueFalse("t", answer=True)])
    html = check.to_html()
    keys = [json.loads(k.replace("&quot;", '"')) for k in re.findall(r'data-key="([^"]*)"', html)]
    assert keys == [[1], ["14日"], [0]]
    assert html.count('<fieldset class="coordkit-q"') == 3 and "<details>" in html
    assert "<script" not in html


def test_text_is_escaped():
    html = SelfCheck("<t>", [Question("<b>", ("<i>", "x"), answer=0)]).to_html()
    assert "<b>" not in html and "&lt;i&gt;" in html
