"""Item banks -> answer keys -> the notebook cells nbgrader runs (coordkit.content.banks).

Keys are recomputed here from datasets/facts.yml with an independent implementation of the answer
rules (dateutil), so a changed rule changes the expected answer, and a bug in the rules is caught.
The generated test cells are executed in-process for every item of every bank: the key passes, each
distractor fails as a wrong answer, and blanks or impostor objects fail as format errors."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import textwrap

import pytest
from dateutil.relativedelta import relativedelta

from coordkit import checks
from coordkit.checks import AnswerFormatError, normalize
from coordkit.content.banks import compute_answer, load_bank, load_banks
from coordkit.content.facts import FactRegistry, read_yaml
from coordkit.content.notebooks import build_notebook, example, write_source
from coordkit.errors import AssignmentError


@pytest.fixture(scope="module")
def banks(settings, facts):
    return load_banks(settings.items_dir, facts, rubrics_dir=settings.rubrics_dir)


def _auto_items(banks):
    return [(bank, item) for bank in banks for item in bank.items if item.auto]


# --- an independent oracle for the answer rules ---------------------------------------------------

def _oracle(spec, facts):
    if not isinstance(spec, dict):
        return spec
    (rule, args), = spec.items()
    if rule == "fact":
        return facts.value(args)
    if rule == "amount":
        terms = args if isinstance(args, list) else [args]
        return sum(facts.value(t["fact"]) * t.get("times", 1) + t.get("plus", 0) for t in terms)
    if rule == "chronological":
        days = {k: str(_oracle(v, facts)) for k, v in args.items()}
        return "-".join(sorted(days, key=days.get))
    day = dt.date.fromisoformat(str(args.get("date", args.get("from"))))
    fact = facts[args["fact"]]
    n = fact.value * args.get("times", 1)
    step = {"days": relativedelta(days=n), "months": relativedelta(months=n),
            "years": relativedelta(years=n)}[fact.unit]
    if rule in ("before", "months_before") or not fact.period:
        return (day - step if rule in ("before", "months_before") else day + step).isoformat()
    return _due(fact, day, n).isoformat()


def _closed(day: dt.date) -> bool:
    """Saturday, Sunday, a national holiday, or the year-end closure (29 Dec - 3 Jan)."""
    import jpholiday

    return (day.weekday() >= 5 or jpholiday.is_holiday(day) or (day.month, day.day) >= (12, 29)
            or (day.month, day.day) <= (1, 3))


def _due(fact, event: dt.date, n: int) -> dt.date:
    """The due date by the fact's own rules, computed independently: Civil Code Arts. 140 and 143
    (first day excluded unless the rule counts it), then the closed-day rule if the fact says so."""
    first = event + dt.timedelta(days=1) if fact.counting == "first_day_excluded" else event
    if fact.unit == "days":
        end = first + dt.timedelta(days=n - 1)
    else:
        months = n * (12 if fact.unit == "years" else 1)
        target = first + relativedelta(months=months)
        end = target if target.day != first.day else target - dt.timedelta(days=1)   # clipped: month's last day
    while fact.closed_day_moves and _closed(end):
        end += dt.timedelta(days=1)
    return end


def test_every_rule_based_key_matches_the_rule_applied_to_the_facts(banks, facts):
    checked = 0
    for bank in banks:
        raw = {r["grade_id"]: r for r in read_yaml(bank.path, what="item bank")["items"]}
        for item in bank.items:
            spec = raw[item.grade_id].get("answer")
            if item.auto and isinstance(spec, dict):
                expected = normalize(_oracle(spec, facts), item.kind, options=item.letters)
                assert item.key == expected, f"{bank.id} {item.grade_id}"
                checked += 1
    assert checked >= 60          # most keys follow a rule: none is retyped by hand


def test_every_date_key_is_computed_from_a_rule_and_lands_where_its_rule_says(banks, facts):
    """Every date key in every bank comes from a fact's period and a date of the case (never typed),
    and a key whose rule moves closed days never falls on one."""
    def forward_facts(spec):
        (rule, args), = spec.items()
        if rule == "chronological":
            return [f for v in args.values() if isinstance(v, dict) for f in forward_facts(v)]
        return [args["fact"]] if rule in ("deadline", "after", "months_after") else []

    dates = 0
    for bank in banks:
        raw = {r["grade_id"]: r for r in read_yaml(bank.path, what="item bank")["items"]}
        for item in bank.items:
            spec = raw[item.grade_id].get("answer")
            if item.kind == "date":
                assert isinstance(spec, dict), f"{bank.id} {item.grade_id}: a date key is typed by hand"
                dates += 1
            if not isinstance(spec, dict) or item.kind not in ("date", "order"):
                continue
            for fact_id in forward_facts(spec):
                fact = facts[fact_id]
                assert fact.period and fact.counting, f"{bank.id} {item.grade_id}: {fact_id} has no counting rule"
            if item.kind == "date" and forward_facts(spec):
                fact = facts[forward_facts(spec)[0]]
                key = dt.date.fromisoformat(item.key)
                assert not (fact.closed_day_moves and _closed(key)), (
                    f"{bank.id} {item.grade_id}: key {key} falls on a closed day, but {fact.id} moves it")
    assert dates >= 30


def _with_fact(facts, fact_id, value):
    changed = dataclasses.replace(facts[fact_id], value=value)
    return FactRegistry(path=facts.path, facts={**facts.facts, fact_id: changed})


_SOURCES: dict = {}


def _hidden_test(bank, grade_id):
    """The source of the graded cell `grade_id` in the bank's generated notebook."""
    key = (id(bank), bank.id)
    if key not in _SOURCES:
        _SOURCES[key] = (bank, {c.metadata["nbgrader"]["grade_id"]: c.source for c in build_notebook(bank).cells})
    return _SOURCES[key][1][grade_id]


def test_a_changed_deadline_rule_moves_the_key_and_the_hidden_test(settings, facts):
    path = settings.items_dir / "cs01_job_loss.yml"
    before = load_bank(path, facts)
    days = facts.value("residence.affiliation_notice_days")
    after = load_bank(path, _with_fact(facts, "residence.affiliation_notice_days", days + 7))
    old, new = before.item("q1_notice_deadline").key, after.item("q1_notice_deadline").key
    assert dt.date.fromisoformat(new) - dt.date.fromisoformat(old) == dt.timedelta(days=7)
    assert f'"{new}"' in _hidden_test(after, "q1_notice_deadline")
    assert f'"{old}"' not in _hidden_test(after, "q1_notice_deadline")
    # the model answer quotes the key through {{key:...}}, so it moves too
    def ja(day: str) -> str:
        d = dt.date.fromisoformat(day)
        return f"{d.year}年{d.month}月{d.day}日"

    model = after.item("q8_easy_japanese").model_answer
    assert ja(new) in model and ja(old) not in model


def test_a_changed_amount_moves_the_key(settings, facts):
    path = settings.items_dir / "cs03_childbirth.yml"
    value = facts.value("childcare.allowance_under3_yen")
    after = load_bank(path, _with_fact(facts, "childcare.allowance_under3_yen", value + 5000))
    assert after.item("q5_allowance_total").key == load_bank(path, facts).item("q5_allowance_total").key + 5000


def test_a_changed_period_can_reorder_a_chronological_key(settings, facts):
    path = settings.items_dir / "cs03_childbirth.yml"
    assert load_bank(path, facts).item("q6_deadline_order").key == "C-B-A"
    # if status applications were due within 5 days, they would come before the birth notification
    moved = load_bank(path, _with_fact(facts, "residence.birth_status_days", 5))
    assert moved.item("q6_deadline_order").key == "B-C-A"


def test_a_fact_change_that_makes_a_distractor_right_is_reported(settings, facts):
    # cs03 q4 offers the reduced lump sum as a distractor; if both amounts were equal the item breaks
    same = _with_fact(facts, "childbirth.lump_sum_yen", facts.value("childbirth.lump_sum_reduced_yen"))
    with pytest.raises(AssignmentError, match="q4_lump_sum.*distractor"):
        load_bank(settings.items_dir / "cs03_childbirth.yml", same)


# --- the generated test cells, run in-process -----------------------------------------------------

def _run(source: str, grade_id: str, value) -> None:
    namespace = {grade_id: value}
    exec(compile(source, f"<{grade_id}>", "exec"), namespace)


def _as_written(item):
    """The key as a trainee might write it (not already in normal form)."""
    if item.kind == "date":
        day = dt.date.fromisoformat(item.key)
        return f"{day.year}年{day.month}月{day.day}日"
    if item.kind == "choice":
        return item.key.lower()
    if item.kind == "order":
        return ", ".join(item.key.split("-"))
    if item.kind == "number":
        return f"{item.key:,}"
    return f" {item.key} "


def _key_forms(item):
    forms = {str(item.key)}
    if item.kind == "number":
        forms.add(f"{item.key:,}")
    if item.kind == "date":
        forms.add(_as_written(item))
    return forms


def test_every_key_scores_and_every_distractor_fails_as_a_wrong_answer(banks):
    for bank, item in _auto_items(banks):
        source = _hidden_test(bank, item.grade_id)
        _run(source, item.grade_id, _as_written(item))
        for accepted in item.accept:
            _run(source, item.grade_id, accepted)
        for wrong in item.distractors:
            if item.kind == "text" and not str(wrong).strip():
                continue
            with pytest.raises(AssertionError) as info:
                _run(source, item.grade_id, wrong)
            assert not isinstance(info.value, AnswerFormatError), f"{bank.id} {item.grade_id}: {wrong!r}"


class _Always:
    def __eq__(self, other):
        return True

    def __contains__(self, other):
        return True


class _Sneaky(str):
    def __eq__(self, other):
        return True

    __hash__ = str.__hash__


def test_blank_and_impostor_answers_fail_as_format_errors_that_never_show_the_key(banks):
    for bank, item in _auto_items(banks):
        source = _hidden_test(bank, item.grade_id)
        for value in ("", _Sneaky(str(item.key)), _Always()):
            with pytest.raises(AnswerFormatError) as info:
                _run(source, item.grade_id, value)
            shown = [f for f in _key_forms(item) if re.search(rf"(?<![\w]){re.escape(f)}(?![\w])", str(info.value))]
            assert not shown or item.kind == "choice", f"{bank.id} {item.grade_id}: the format message shows {shown}"


def test_a_patched_checker_that_returns_an_impostor_does_not_score(banks, monkeypatch):
    # a trainee who replaces coordkit.checks.answer in their answer cell gains nothing
    monkeypatch.setattr(checks, "answer", lambda *args, **kwargs: _Always())
    for bank, item in _auto_items(banks)[:20]:
        with pytest.raises(AssertionError):
            _run(_hidden_test(bank, item.grade_id), item.grade_id, item.key)


def test_the_example_in_an_answer_cell_never_equals_the_key(banks):
    """Dates, numbers and texts: a fixed example no key equals. Choice and order: chosen by the grade_id
    alone (see the next test), so it may equal the key by chance."""
    for bank, item in _auto_items(banks):
        shown = example(item).strip('"')
        try:
            written = normalize(shown, item.kind, options=item.letters)
        except AnswerFormatError:
            continue
        assert written != item.key or item.kind in ("choice", "order"), f"{bank.id} {item.grade_id}: example {shown}"


def test_a_choice_example_tells_nothing_about_the_key(banks):
    """The same question with another key shows the same example: it never rules an option out."""
    import dataclasses

    for bank, item in _auto_items(banks):
        if item.kind == "choice":
            for other in item.letters:
                assert example(dataclasses.replace(item, key=other)) == example(item), f"{bank.id} {item.grade_id}"


# --- notebook generation ----------------------------------------------------------------------------

def test_the_source_notebook_has_the_nbgrader_cells_the_course_needs(banks):
    for bank in banks:
        nb = build_notebook(bank)
        graded = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if c.metadata["nbgrader"]["grade"]}
        assert set(graded) == {i.grade_id for i in bank.items}
        assert sum(c.metadata["nbgrader"]["points"] for c in graded.values()) == bank.max_total
        ids = [c["id"] for c in nb.cells]
        assert len(ids) == len(set(ids))
        for item in bank.items:
            cell = graded[item.grade_id]
            if item.auto:
                assert cell.cell_type == "code" and "### BEGIN HIDDEN TESTS" in cell.source
            else:
                # the graders' mark scheme: model answer and rubric, replaced on release
                assert cell.cell_type == "markdown" and cell.metadata["nbgrader"]["solution"]
                assert "<!-- BEGIN RUBRIC -->" in cell.source
                assert bank.rubric.cell(item.grade_id).criteria[0].ja in cell.source


def test_regenerating_an_unchanged_bank_changes_nothing(banks, tmp_path):
    bank = banks[0]
    path, changed = write_source(bank, tmp_path)
    assert changed and path == tmp_path / "source" / bank.id / f"{bank.id}.ipynb"
    assert write_source(bank, tmp_path) == (path, False)


# --- errors a lecturer can make in a bank --------------------------------------------------------------

GOOD_ITEM = """
  - grade_id: q1_deadline
    kind: date
    points: 2
    unit: TP1-B2
    competency: C1
    prompt: When?
    answer: {deadline: {from: 2025-03-31, fact: residence.affiliation_notice_days}}
"""


def _bank(tmp_path, items: str, *, rubric: str | None = None, name: str = "cs99_test"):
    items_dir = tmp_path / "items"
    items_dir.mkdir(exist_ok=True)
    path = items_dir / f"{name}.yml"
    path.write_text(f"id: {name}\nkind: case_study\ntitle_ja: t\ntitle_en: t\nitems:\n"
                    + textwrap.dedent(items).strip("\n").replace("\n", "\n") + "\n", encoding="utf-8")
    if rubric is not None:
        (tmp_path / "rubrics").mkdir(exist_ok=True)
        (tmp_path / "rubrics" / f"{name}.yml").write_text(rubric, encoding="utf-8")
    return path


def _indent(text: str) -> str:
    return textwrap.indent(textwrap.dedent(text).strip("\n"), "  ")


@pytest.mark.parametrize("change, message", [
    (("kind: date", "kind: essay"), r"kind 'essay' is not one of"),
    (("unit: TP1-B2", "unit: TP1-Z9"), r"unit 'TP1-Z9' is not a syllabus unit"),
    (("competency: C1", "competency: C7"), r"competency 'C7'"),
    (("residence.affiliation_notice_days", "residence.affiliation_days"), r"unknown fact 'residence.affiliation_days'"),
    (("deadline:", "fortnight:"), r"unknown answer rule 'fortnight'"),
    (("grade_id: q1_deadline", "grade_id: Q1"), r"grade_id must look like q<N>_<what>"),
    (("prompt: When?", "prompt: 'Due {{key:q1_deadline}}'"), r"may only be used in a model answer"),
    (("points: 2", "points: 0"), r"points must be a positive number"),
])
def test_a_malformed_item_is_reported_with_file_item_and_fix(tmp_path, facts, change, message):
    path = _bank(tmp_path, _indent(GOOD_ITEM.replace(*change)))
    with pytest.raises(AssignmentError, match=message) as info:
        load_bank(path, facts)
    assert str(path) in str(info.value)


def test_a_distractor_equal_to_the_key_is_refused(tmp_path, facts):
    path = _bank(tmp_path, _indent(GOOD_ITEM + '    distractors: ["2025-04-14"]\n'))
    with pytest.raises(AssignmentError, match="q1_deadline: distractor '2025-04-14' is an accepted answer"):
        load_bank(path, facts)


def test_a_choice_item_needs_options(tmp_path, facts):
    item = GOOD_ITEM.replace("kind: date", "kind: choice").replace(
        "answer: {deadline: {from: 2025-03-31, fact: residence.affiliation_notice_days}}", "answer: B")
    with pytest.raises(AssignmentError, match="lists its options"):
        load_bank(_bank(tmp_path, _indent(item)), facts)


def test_an_ambiguous_chronological_order_is_refused(tmp_path, facts):
    item = GOOD_ITEM.replace("kind: date", "kind: order").replace(
        "answer: {deadline: {from: 2025-03-31, fact: residence.affiliation_notice_days}}",
        "options: {A: a, B: b}\n"
        "    answer: {chronological: {A: 2025-04-14, B: {deadline: {from: 2025-03-31, "
        "fact: residence.affiliation_notice_days}}}}")
    with pytest.raises(AssignmentError, match="same date"):
        load_bank(_bank(tmp_path, _indent(item)), facts)


MANUAL_ITEM = """
  - grade_id: q2_plan
    kind: manual
    points: 4
    unit: TP1-D2
    competency: C3
    prompt: Plan.
    model_answer: Before {{key:q1_deadline}}, within {{fact:residence.affiliation_notice_days}}.
"""

RUBRIC = """
assignment: cs99_test
cells:
  q2_plan:
    criteria:
      - id: partners
        ja: 関係機関
        en: Partners
        levels:
          - {points: 0, ja: なし, en: None}
          - {points: POINTS, ja: あり, en: Some}
"""


def test_a_manual_item_is_graded_with_its_rubric_and_may_quote_keys_and_facts(tmp_path, facts):
    path = _bank(tmp_path, _indent(GOOD_ITEM + MANUAL_ITEM), rubric=RUBRIC.replace("POINTS", "4"))
    bank = load_bank(path, facts)
    assert bank.rubric.cell("q2_plan").max_points == 4
    assert bank.item("q2_plan").model_answer == "Before 2025年4月14日, within 14日."


def test_a_manual_item_without_a_rubric_file_is_refused(tmp_path, facts):
    path = _bank(tmp_path, _indent(GOOD_ITEM + MANUAL_ITEM))
    with pytest.raises(AssignmentError, match=r"rubric file .*cs99_test.yml not found"):
        load_bank(path, facts)


def test_rubric_points_must_add_up_to_the_item_points(tmp_path, facts):
    path = _bank(tmp_path, _indent(GOOD_ITEM + MANUAL_ITEM), rubric=RUBRIC.replace("POINTS", "3"))
    with pytest.raises(AssignmentError, match="add up to 3 points but .* gives the item 4"):
        load_bank(path, facts)


def test_text_items_accept_every_listed_answer_and_only_text_items_may(tmp_path, facts):
    text_item = GOOD_ITEM.replace("kind: date", "kind: text").replace(
        "answer: {deadline: {from: 2025-03-31, fact: residence.affiliation_notice_days}}",
        "answer: 在留カード\n    accept: [ざいりゅうカード, Residence Card]")
    item = load_bank(_bank(tmp_path, _indent(text_item)), facts).item("q1_deadline")
    assert item.accept == ("在留カード", "ざいりゅうカード", "residencecard")
    with pytest.raises(AssignmentError, match="accept: lists are for text items only"):
        load_bank(_bank(tmp_path, _indent(GOOD_ITEM + "    accept: ['2025-04-15']\n"), name="cs98_test"), facts)


def test_compute_answer_names_the_place_of_an_incomplete_rule(facts):
    with pytest.raises(AssignmentError, match="here: answer rule 'deadline' is incomplete"):
        compute_answer({"deadline": {"fact": "residence.moving_days"}}, facts, where="here")
    with pytest.raises(AssignmentError, match="not a period"):
        compute_answer({"after": {"date": "2025-01-01", "fact": "childbirth.lump_sum_yen"}}, facts, where="here")


def test_renewal_banks_are_marked_and_a_bad_cycle_is_refused(tmp_path):
    from coordkit.content.banks import load_bank
    from coordkit.config import load_settings
    from coordkit.errors import AssignmentError
    from coordkit.content.facts import load_facts

    settings = load_settings()
    facts = load_facts(settings.facts)
    assert load_bank(settings.items_dir / "renewal_refresher.yml", facts).cycle == "renewal"
    assert load_bank(settings.items_dir / "cs01_job_loss.yml", facts).cycle == "training"
    bad = tmp_path / "items" / "cs01_job_loss.yml"
    bad.parent.mkdir()
    bad.write_text((settings.items_dir / "cs01_job_loss.yml").read_text(encoding="utf-8").replace(
        "\nkind: ", "\ncycle: yearly\nkind: ", 1), encoding="utf-8")
    with pytest.raises(AssignmentError, match="cycle must be one of"):
        load_bank(bad, facts, rubrics_dir=settings.rubrics_dir)


def test_the_notebook_builders_keep_their_old_import_path():
    """Code written before issue #15 imports build_notebook / write_source from coordkit.banks."""
    from coordkit.banks import build_notebook as old_build, write_source as old_write
    from coordkit.content import notebooks
    from coordkit.content.banks import example as moved_example

    assert old_build is notebooks.build_notebook and old_write is notebooks.write_source
    assert moved_example is notebooks.example
    with pytest.raises(ImportError):
        from coordkit.banks import no_such_name  # noqa: F401
