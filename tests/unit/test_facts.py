import datetime as dt
import textwrap

import pytest

from coordkit.errors import FactsError
from coordkit.content.facts import (deadline, due_date, is_closed_day, last_day, load_facts, next_open_day, parse_age,
                                    period_end, review_due, review_facts, used_fact_ids)

GOOD = """\
facts:
  - id: residence.moving_days
    value: 14
    unit: days
    counting: first_day_excluded
    closed_day_moves: true
    en: Report a move within {value}.
    ja: 引っ越しは{value}以内に届け出ます。
    source: https://www.moj.go.jp/isa/example.html
    source_kind: ISA
    verified: 2026-01-10
  - id: childbirth.lump_sum_yen
    value: 500000
    unit: yen
    en: The allowance is {value}.
    ja: 一時金は{value}です。
    source: https://example.org/a
    source_kind: 3P
    verified: 2026-06-01
"""


def write(tmp_path, text):
    path = tmp_path / "facts.yml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_values_render_in_both_languages(tmp_path):
    facts = load_facts(write(tmp_path, GOOD))
    assert facts["residence.moving_days"].statement("en") == "Report a move within 14 days."
    assert facts["residence.moving_days"].statement("ja") == "引っ越しは14日以内に届け出ます。"
    assert facts["childbirth.lump_sum_yen"].display("en") == "¥500,000"
    assert facts["childbirth.lump_sum_yen"].display("ja") == "500,000円"


def test_unknown_fact_suggests_the_close_one(tmp_path):
    facts = load_facts(write(tmp_path, GOOD))
    with pytest.raises(FactsError, match="did you mean 'residence.moving_days'|Did you mean 'residence.moving_days'"):
        facts["residence.moving_day"]


def test_missing_file_names_the_file_and_the_fix(tmp_path):
    with pytest.raises(FactsError, match=r"nowhere\.yml not found; restore it"):
        load_facts(tmp_path / "nowhere.yml")


def test_malformed_yaml_names_the_line(tmp_path):
    path = write(tmp_path, "facts:\n  - id: a.b\n    value: [1,\n")
    with pytest.raises(FactsError, match=r"facts\.yml line \d+: malformed YAML"):
        load_facts(path)


@pytest.mark.parametrize("field, value, message", [
    ("source", "", "missing source"),
    ("source", "moj.go.jp/page", "is not a URL"),
    ("verified", "yesterday", "is not a date"),
    ("source", "http://www.moj.go.jp/isa/example.html", "uses http; write the https address"),
    ("counting", "first_day_maybe", "a period needs counting"),
    ("unit", "weeks", "unknown unit"),
    ("source_kind", "blog", "is not one of"),
    ("value", "fourteen", "must be a whole number"),
    ("en", "Report a move.", "must contain {value}"),
])
def test_every_fact_needs_a_source_a_date_and_a_value(tmp_path, field, value, message):
    text = GOOD.replace({
        "source": "    source: https://www.moj.go.jp/isa/example.html",
        "verified": "    verified: 2026-01-10",
        "unit": "    unit: days",
        "source_kind": "    source_kind: ISA",
        "value": "    value: 14",
        "en": "    en: Report a move within {value}.",
        "counting": "    counting: first_day_excluded",
    }[field], f"    {field}: {value!r}" if value else f"    {field}:")
    with pytest.raises(FactsError, match=message):
        load_facts(write(tmp_path, text))


def test_duplicate_ids_and_duplicate_keys_are_refused(tmp_path):
    doubled = GOOD + GOOD.split("facts:\n", 1)[1]
    with pytest.raises(FactsError, match="defined twice"):
        load_facts(write(tmp_path, doubled))
    with pytest.raises(FactsError, match="duplicate key 'value'"):
        load_facts(write(tmp_path, GOOD.replace("    value: 14\n", "    value: 14\n    value: 7\n")))


def test_review_lists_only_facts_older_than_the_age(tmp_path):
    facts = load_facts(write(tmp_path, GOOD))
    due = review_facts(facts, older_than_days=180, today=dt.date(2026, 8, 1))
    assert [f.id for f in due] == ["residence.moving_days"]       # 203 days old; the other is 61
    assert review_facts(facts, older_than_days=365, today=dt.date(2026, 8, 1)) == []


@pytest.mark.parametrize("text, days", [("180d", 180), ("6m", 180), ("1y", 365), ("30", 30)])
def test_parse_age(text, days):
    assert parse_age(text) == days


def test_parse_age_rejects_nonsense():
    with pytest.raises(FactsError, match="write it like 180d"):
        parse_age("half a year")


def test_deadline_does_not_count_the_day_of_the_event():
    assert deadline("2025-03-31", 14) == dt.date(2025, 4, 14)
    assert deadline(dt.date(2024, 2, 20), 14) == dt.date(2024, 3, 5)   # across a leap day


def test_used_fact_ids_reads_both_roles():
    text = "Within {fact}`a.b` days; {fact-text}`c.d` and `{fact}` alone."
    assert used_fact_ids([text]) == {"a.b", "c.d"}


def test_the_registry_in_the_repository_loads(facts):
    assert len(facts) >= 30
    assert all(f.source.startswith("https://") and (f.verified or f.checked_against) for f in facts)


def test_one_takes_the_singular_in_english_only(tmp_path):
    facts = load_facts(write(tmp_path, GOOD.replace("value: 14", "value: 1")))
    assert facts["residence.moving_days"].display("en") == "1 day"
    assert facts["residence.moving_days"].display("ja") == "1日"


TEXT_FACT = """\
facts:
  - id: tax.reference_date
    value: 1 January
    unit: text
    en: Levied on {value}.
    ja: "{value}に課税します。"
    source: https://example.org/tax
    source_kind: municipal
    verified: 2026-01-10
"""


def test_a_text_value_reads_in_japanese_in_the_japanese_edition(tmp_path):
    with pytest.raises(FactsError, match="would show the English value '1 January'; add value_ja"):
        load_facts(write(tmp_path, TEXT_FACT))
    facts = load_facts(write(tmp_path, TEXT_FACT.replace("    unit: text\n", "    unit: text\n    value_ja: 1月1日\n")))
    assert facts["tax.reference_date"].statement("ja") == "1月1日に課税します。"
    assert facts["tax.reference_date"].statement("en") == "Levied on 1 January."


def test_a_caveat_reaches_readers_of_both_editions(tmp_path):
    noted = GOOD.replace("    verified: 2026-01-10\n", "    verified: 2026-01-10\n    note: Not confirmed by ISA.\n", 1)
    with pytest.raises(FactsError, match="the note has no Japanese version; add note_ja"):
        load_facts(write(tmp_path, noted))
    both = noted.replace("    note: Not confirmed by ISA.\n", "    note: Not confirmed by ISA.\n    note_ja: 未確認です。\n")
    fact = load_facts(write(tmp_path, both))["residence.moving_days"]
    assert fact.caveat("en") == "Not confirmed by ISA." and fact.caveat("ja") == "未確認です。"


# --- what was really checked ------------------------------------------------------------------------

def test_checked_against_replaces_verified_and_needs_a_date(tmp_path):
    text = GOOD.replace("    verified: 2026-01-10\n",
                        "    checked_against: shared/domain/curriculum.md (2026-12-07); source page not opened\n", 1)
    fact = load_facts(write(tmp_path, text))["residence.moving_days"]
    assert fact.verified is None and fact.last_checked == dt.date(2026, 12, 7)
    assert fact.status("en") == "checked against shared/domain/curriculum.md (2026-12-07); source page not opened"
    with pytest.raises(FactsError, match="has no date"):
        load_facts(write(tmp_path, text.replace(" (2026-12-07)", "")))
    with pytest.raises(FactsError, match="missing verified or checked_against"):
        load_facts(write(tmp_path, GOOD.replace("    verified: 2026-01-10\n", "", 1)))


def test_a_pending_rule_says_when_it_starts_and_pages_show_it(tmp_path):
    pending = GOOD.replace("    verified: 2026-06-01\n", "    verified: 2026-06-01\n    in_force: pending\n")
    with pytest.raises(FactsError, match="expected_start"):
        load_facts(write(tmp_path, pending))
    fact = load_facts(write(tmp_path, pending.replace(
        "    in_force: pending\n", "    in_force: pending\n    expected_start: April 2028\n")))["childbirth.lump_sum_yen"]
    assert fact.pending
    assert fact.pending_label("en") == " (not yet in force; expected from April 2028)"
    assert fact.pending_label("ja") == "（未施行。施行予定: April 2028）"


def test_review_lists_what_is_due_by_kind(tmp_path):
    text = GOOD.replace("    verified: 2026-06-01\n", "    checked_against: a summary (2026-06-01)\n"
                        "    in_force: pending\n    expected_start: 2026-07-01\n")
    due = review_due(load_facts(write(tmp_path, text)), older_than_days=180, today=dt.date(2026, 8, 1))
    assert [i.fact.id for i in due["started"]] == ["childbirth.lump_sum_yen"]      # its start has come
    assert [i.fact.id for i in due["unread"]] == ["childbirth.lump_sum_yen"]
    assert [i.fact.id for i in due["third_party"]] == ["childbirth.lump_sum_yen"]
    assert [i.fact.id for i in due["stale"]] == ["residence.moving_days"]
    assert "pending" not in due


# --- counting periods and the closed-day rule -----------------------------------------------------------

def _period(tmp_path, counting, moves, value=14, unit="days"):
    text = (GOOD.replace("counting: first_day_excluded", f"counting: {counting}")
            .replace("closed_day_moves: true", f"closed_day_moves: {str(moves).lower()}")
            .replace("value: 14\n    unit: days", f"value: {value}\n    unit: {unit}"))
    return load_facts(write(tmp_path, text))["residence.moving_days"]


@pytest.mark.parametrize("day, closed", [
    ("2026-12-05", True),    # Saturday
    ("2026-12-06", True),    # Sunday
    ("2026-12-07", False),   # Monday
    ("2026-11-23", True),    # Labour Thanksgiving Day
    ("2026-05-06", True),    # substitute holiday (Constitution Day fell on a Sunday)
    ("2026-09-22", True),    # 国民の休日 between two holidays
    ("2026-12-28", False),   # the last open day of the year
    ("2026-12-29", True), ("2027-01-03", True),   # year-end closure
    ("2027-01-04", False),
])
def test_closed_days(day, closed):
    assert is_closed_day(day) is closed


def test_next_open_day_skips_the_year_end_closure_and_a_weekend():
    assert next_open_day("2026-12-29") == dt.date(2027, 1, 4)
    assert next_open_day("2026-12-07") == dt.date(2026, 12, 7)


def test_first_day_excluded_counts_from_the_next_day(tmp_path):
    fact = _period(tmp_path, "first_day_excluded", False)
    assert due_date(fact, "2025-03-31") == dt.date(2025, 4, 14) == deadline("2025-03-31", 14)


def test_first_day_included_counts_the_day_of_the_event(tmp_path):
    fact = _period(tmp_path, "first_day_included", False)          # e.g. a birth notification
    assert due_date(fact, "2025-06-10") == dt.date(2025, 6, 23)


def test_from_stated_day_counts_that_day_as_day_one(tmp_path):
    fact = _period(tmp_path, "from_stated_day", False, value=2, unit="years")
    assert due_date(fact, "2026-06-30") == dt.date(2028, 6, 29)


def test_closed_day_rule_moves_only_when_the_fact_says_so(tmp_path):
    # 14 days after 2027-10-16 is Saturday 2027-10-30
    assert due_date(_period(tmp_path, "first_day_excluded", True), "2027-10-16") == dt.date(2027, 11, 1)
    assert due_date(_period(tmp_path, "first_day_excluded", False), "2027-10-16") == dt.date(2027, 10, 30)
    # 14 days after 2026-12-15 is 29 December: the closure and the New Year holidays push it to 4 January
    assert due_date(_period(tmp_path, "first_day_excluded", True), "2026-12-15") == dt.date(2027, 1, 4)


def test_months_end_on_the_day_before_the_corresponding_day(tmp_path):
    # Civil Code Art. 143: counting starts on 1 March, so the period ends the day before 1 April
    assert last_day(_period(tmp_path, "first_day_excluded", False, 1, "months"), "2026-02-28") == dt.date(2026, 3, 31)
    # no corresponding day in the last month: its last day
    assert period_end("2026-01-31", 1, "months") == dt.date(2026, 2, 28)
    assert last_day(_period(tmp_path, "first_day_excluded", False, 6, "months"), "2025-10-03") == dt.date(2026, 4, 3)


def test_a_length_that_is_not_a_period_has_no_due_date(tmp_path):
    text = GOOD.replace("    counting: first_day_excluded\n    closed_day_moves: true\n", "    period: false\n")
    fact = load_facts(write(tmp_path, text))["residence.moving_days"]
    with pytest.raises(FactsError, match="not a period"):
        due_date(fact, "2026-01-01")
    with pytest.raises(FactsError, match="counting and closed_day_moves are for periods"):
        load_facts(write(tmp_path, GOOD.replace("unit: yen", "unit: yen\n    counting: first_day_excluded")))
