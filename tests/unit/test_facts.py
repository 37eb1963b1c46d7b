import datetime as dt
import textwrap

import pytest

from coordkit.errors import FactsError
from coordkit.facts import deadline, load_facts, parse_age, review_facts, used_fact_ids

GOOD = """\
facts:
  - id: residence.moving_days
    value: 14
    unit: days
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
    assert all(f.source.startswith("http") and f.verified for f in facts)


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
