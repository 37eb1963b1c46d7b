"""The {deadline} role: a worked-example date in a book page computed from the facts registry, so that
a changed rule reaches the example (issue #14, hand-typed deadlines)."""

from __future__ import annotations

import pytest

from coordkit.book import deadline_text
from coordkit.errors import FactsError


def test_a_deadline_in_the_year_end_closure_moves_to_the_next_open_day(facts):
    # left the employer on Friday 18 December 2026: day 14 is 1 January, a closed day
    assert deadline_text(facts, "residence.affiliation_notice_days 2026-12-18 last weekday", lang="ja")[1] == "2027年1月1日（金）"
    assert deadline_text(facts, "residence.affiliation_notice_days 2026-12-18 weekday", lang="ja")[1] == "2027年1月4日（月）"
    assert deadline_text(facts, "residence.affiliation_notice_days 2026-12-18 weekday", lang="en")[1] == "Monday 4 January 2027"


def test_each_fact_keeps_its_own_counting_rule(facts):
    # the family register counts the day of birth; the Immigration Act does not
    assert deadline_text(facts, "family.birth_notification_days 2026-10-01 noyear", lang="en")[1] == "14 October"
    assert deadline_text(facts, "residence.birth_status_days 2026-10-01 last noyear", lang="ja")[1] == "10月31日"
    assert deadline_text(facts, "residence.birth_status_days 2026-10-01 noyear weekday ja", lang="en")[1] == "11月2日（月）"


@pytest.mark.parametrize("spec, message", [
    ("residence.moving_days", "needs a fact id and an event date"),
    ("residence.moving_days 2026-13-01", "is not a date; write it as YYYY-MM-DD"),
    ("residence.moving_days 2026-12-15 soon", "unknown option(s) soon"),
])
def test_a_malformed_role_names_itself_and_the_fix(facts, spec, message):
    with pytest.raises(FactsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        deadline_text(facts, spec, lang="en", where="book/modules/x")
