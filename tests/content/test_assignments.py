"""Static checks over the item banks, their rubrics and the generated source notebooks: the tests
and case studies the curriculum requires exist, every item is tagged, no answer is given away, no
fact is retyped, and the committed notebooks are exactly what the banks generate."""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections import Counter

import nbformat
import pytest

from coordkit.content.banks import load_banks
from coordkit.content.facts import read_yaml
from coordkit.content.notebooks import build_notebook

CASE_ID = re.compile(r"^cs\d{2}_[a-z0-9_]+$")
OURS = re.compile(r"^(cs\d{2}_.*|tp1_check|completion_test|practice_report)$")   # this banks
TEXT_FIELDS = ("prompt", "options", "context", "model_answer", "template")


@pytest.fixture(scope="module")
def banks(settings, facts):
    return {b.id: b for b in load_banks(settings.items_dir, facts, rubrics_dir=settings.rubrics_dir)}


@pytest.fixture(scope="module")
def raw(banks):
    return {bid: read_yaml(b.path, what="item bank") for bid, b in banks.items()}


@pytest.fixture(scope="module")
def syllabus(root):
    from coordkit.content.syllabus import load_syllabus

    return load_syllabus(root / "book" / "syllabus.yml")


def _ours(banks):
    return [b for b in banks.values() if OURS.match(b.id)]


# --- what the curriculum requires ------------------------------------------------------------------

def test_tp1_check_covers_all_tp1_subjects_with_choice_and_short_answers(banks, syllabus):
    bank = banks["tp1_check"]
    assert bank.kind == "test" and len(bank.items) >= 45 and all(i.auto for i in bank.items)
    subjects = {u.code for u in syllabus.in_stage("TP1") if u.kind == "subject"}
    assert len(subjects) == 15
    per_unit = Counter(i.unit for i in bank.items)
    assert set(per_unit) == subjects and min(per_unit.values()) >= 3
    kinds = Counter(i.kind for i in bank.items)
    assert kinds["choice"] >= 20 and kinds["text"] + kinds["number"] >= 6


def test_completion_test_has_scenarios_that_combine_domains(banks):
    bank = banks["completion_test"]
    assert bank.kind == "test" and len(bank.items) >= 40 and all(i.auto for i in bank.items)
    scenario_items = [i for i in bank.items if len(i.domains) >= 2]
    assert len(scenario_items) >= 10
    scenarios = [i for i in bank.items if i.context and "場面" in i.context]
    assert len(scenarios) >= 4
    assert {"PRACTICE", "TP2"} <= {i.unit for i in bank.items}


def test_at_least_eight_case_studies_cut_across_domains(banks, raw):
    cases = [b for b in banks.values() if CASE_ID.match(b.id)]
    assert len(cases) >= 8
    with_amount = 0
    for bank in cases:
        assert bank.kind == "case_study" and len(bank.domains) >= 3, bank.id
        assert "受付票" in bank.case and "仮名" in bank.case, f"{bank.id}: intake notes with pseudonyms"
        kinds = Counter(i.kind for i in bank.items)
        assert kinds["choice"] >= 1 and kinds["order"] >= 1, bank.id
        assert any(i.kind == "date" and i.facts_used for i in bank.items), f"{bank.id}: a deadline from a rule"
        assert any(i.audience == "client" for i in bank.items if not i.auto), \
            f"{bank.id}: no written answer addressed to the client (audience: client)"
        specs = [r.get("answer") for r in raw[bank.id]["items"]]
        with_amount += any(isinstance(s, dict) and "amount" in s for s in specs)
    assert with_amount >= len(cases) // 2


def _written_tasks(bank) -> frozenset[str]:
    """The kinds of written task of a case: grade_ids without their q<N>_ prefix."""
    return frozenset(re.sub(r"^q\d+_", "", i.grade_id) for i in bank.items if not i.auto)


def test_cases_vary_their_written_tasks(banks):
    cases = [b for b in banks.values() if CASE_ID.match(b.id)]
    sets = {b.id: _written_tasks(b) for b in cases}
    same = [(a, b) for a in sets for b in sets if a < b and sets[a] == sets[b]]
    assert not same, f"cases with the same written tasks: {same}"
    kinds = set().union(*sets.values())
    assert {"referral_letter", "risk_assessment", "consent_script", "record_entry", "handover_note",
            "transcript_annotation"} <= kinds, sorted(kinds)


def test_debatable_cases_refusal_and_legal_duty(banks):
    refusal, duty = banks["cs09_dv_refusal"], banks["cs10_child_abuse_report"]
    assert "transcript_annotation" in _written_tasks(refusal)
    transcript = refusal.item("q5_transcript_annotation").context
    assert transcript.count("| 相談員 |") >= 5 and "仮名" in refusal.case
    assert "児童虐待防止法第6条" in duty.intro                 # the duty, from datasets/facts.yml
    assert {"decision", "handover_note"} <= _written_tasks(duty)


def test_practice_report_is_a_manually_graded_template(banks):
    bank = banks["practice_report"]
    assert bank.kind == "report" and len(bank.items) >= 4
    assert all(not i.auto and i.template and i.unit == "PRACTICE" for i in bank.items)
    assert "仮定" in bank.intro      # the format is an assumption, and the reader is told


# --- tagging --------------------------------------------------------------------------------------------

def test_every_item_is_tagged_with_a_syllabus_unit_and_a_competency(banks, syllabus):
    codes = {u.code for u in syllabus.units if u.kind in ("subject", "practice", "group_training")}
    for bank in banks.values():
        for item in bank.items:
            assert item.unit in codes, f"{bank.id} {item.grade_id}: unit {item.unit}"
            assert item.competency in syllabus.competencies, f"{bank.id} {item.grade_id}"


def test_bank_headers_list_the_units_their_items_use(banks):
    for bank in _ours(banks):
        assert set(bank.units) == {i.unit for i in bank.items}, bank.id


def test_test_difficulties_are_spread_for_the_simulator(banks):
    for bid in ("tp1_check", "completion_test"):
        values = [i.difficulty for i in banks[bid].items]
        assert min(values) <= -1.0 and max(values) >= 1.0 and statistics.pstdev(values) >= 0.6, bid


def test_choice_keys_are_not_concentrated_on_one_letter(banks):
    for bank in _ours(banks):
        keys = Counter(i.key for i in bank.items if i.kind == "choice")
        if sum(keys.values()) >= 8:
            assert max(keys.values()) <= 0.4 * sum(keys.values()), f"{bank.id}: {dict(keys)}"


# --- nothing retyped, nothing given away -------------------------------------------------------------

def _raw_texts(item_raw: dict) -> list[str]:
    texts = []
    for field in TEXT_FIELDS:
        value = item_raw.get(field)
        texts.extend(value.values() if isinstance(value, dict) else [value] if value else [])
    return [str(t) for t in texts]


def _fact_forms(facts) -> dict[str, set[str]]:
    """How a yen amount or a phone line would look if typed by hand."""
    forms = {}
    for fact in facts:
        if fact.unit == "yen" and fact.value >= 1000:
            found = {f"{fact.value:,}", str(fact.value)}
            if fact.value % 10000 == 0:
                found.add(f"{fact.value // 10000}万")
            forms[fact.id] = found
        elif fact.unit == "text" and re.fullmatch(r"[#\d][\d-]{2,}", str(fact.value)):
            forms[fact.id] = {str(fact.value)}
    return forms


def test_no_amount_or_phone_line_is_typed_by_hand(banks, raw, facts):
    forms = _fact_forms(facts)
    assert {"childbirth.lump_sum_yen", "dv.support_center_line"} <= set(forms)
    for bank in _ours(banks):
        texts = [str(raw[bank.id].get(k, "")) for k in ("intro", "case")]
        texts += [t for r in raw[bank.id]["items"] for t in _raw_texts(r)]
        for fact_id, typed in forms.items():
            for text in texts:
                hits = [f for f in typed if re.search(rf"(?<![\d,]){re.escape(f)}(?![\d,])", text)]
                assert not hits, f"{bank.id}: {hits} typed by hand; write {{{{fact:{fact_id}}}}}"


def _released_text(bank) -> str:
    parts = [bank.intro, bank.case]
    for item in bank.items:
        parts += [item.context, item.prompt, *item.options.values(), item.template]
    return "\n".join(parts)


def test_no_prompt_gives_away_an_answer(banks, raw):
    for bank in banks.values():
        shown = _released_text(bank)
        by_id = {r["grade_id"]: r for r in raw[bank.id]["items"]}
        for item in (i for i in bank.items if i.auto):
            own = "\n".join([item.context, item.prompt, *item.options.values()])
            if item.kind == "date":
                day = dt.date.fromisoformat(item.key)
                for form in (item.key, f"{day.year}年{day.month}月{day.day}日"):
                    assert form not in shown, f"{bank.id} {item.grade_id}: the key {form} is shown"
            elif item.kind == "number" and item.key >= 100:
                for form in (f"{item.key:,}", str(item.key)):
                    assert not re.search(rf"(?<![\d,]){form}(?![\d,])", shown), f"{bank.id} {item.grade_id}"
            elif item.kind == "text":
                for form in item.accept:
                    assert form not in own.casefold().replace(" ", ""), f"{bank.id} {item.grade_id}: {form}"
            for fact_id in item.facts_used:     # the rule the item tests is not printed next to it
                for text in _raw_texts({k: v for k, v in by_id[item.grade_id].items() if k != "model_answer"}):
                    assert f"fact:{fact_id}" not in text.replace(" ", ""), f"{bank.id} {item.grade_id}"


def test_deadlines_in_our_cases_and_tests_fall_on_weekdays(banks, raw):
    # the holiday extension of administrative deadlines would make a weekend key ambiguous
    for bank in _ours(banks):
        specs = {r["grade_id"]: r.get("answer") for r in raw[bank.id]["items"]}
        for item in bank.items:
            spec = specs[item.grade_id]
            if item.kind == "date" and isinstance(spec, dict) and "deadline" in spec:
                assert dt.date.fromisoformat(item.key).weekday() < 5, f"{bank.id} {item.grade_id}: {item.key}"


# --- the generated notebooks -----------------------------------------------------------------------

def test_committed_source_notebooks_are_exactly_what_the_banks_generate(banks, settings):
    for bank in banks.values():
        path = settings.course_root / "source" / bank.id / f"{bank.id}.ipynb"
        assert path.is_file(), f"{path} missing: run `coordkit release --force`"
        expected = nbformat.writes(build_notebook(bank)) + "\n"
        assert path.read_text(encoding="utf-8") == expected, \
            f"{path} is out of date with graders/items/{bank.id}.yml: run `coordkit release --force`"


def test_no_source_notebook_without_a_bank(banks, settings):
    folders = {p.name for p in (settings.course_root / "source").iterdir() if p.is_dir()}
    assert folders <= set(banks), f"source notebooks without an item bank: {sorted(folders - set(banks))}"


def test_source_notebooks_have_no_outputs(settings):
    for path in sorted((settings.course_root / "source").glob("*/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path
