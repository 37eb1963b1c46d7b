"""Item banks: one YAML file per assignment in graders/items/ (never released to trainees).

Each item is tagged with its syllabus unit and competency; the nbgrader source notebook is generated
from the bank, so that items are analysed and revised in one place. Answers that depend on a rule
(a deadline, an amount) are computed from datasets/facts.yml, so a changed rule changes the key.

Bank file (see graders/items/cs01_job_loss.yml for a full example)::

    id: cs01_job_loss                 # = file name; case studies cs<NN>_<slug>
    kind: case_study                  # case_study | test | report
    title_ja / title_en / intro / case / units / domains
    items:
      - grade_id: q1_notice_deadline  # q<N>_<what>, stable forever (the gradebook keys on it)
        kind: date                    # choice | order | date | number | text | manual
        points: 2
        unit: TP1-B2                  # syllabus unit; competency C1..C4; difficulty: logit
        competency: C1
        difficulty: 0.2
        context: ...                   # optional: a scenario shown before the question
        domains: [residence, labour]  # optional: the life domains the item combines
        prompt: ...
        options: {A: ..., B: ...}     # choice and order items
        answer: {deadline: {from: 2025-03-31, fact: residence.affiliation_notice_days}}
        accept: [...]                 # text items: other acceptable answers (normalised like the key)
        distractors: [...]            # plausible wrong answers (the simulator draws from them)
        model_answer: ...             # manual items; graded with graders/rubrics/<bank id>.yml
        audience: client              # manual items whose model answer is addressed to the client: it
                                      # follows `coordkit easyja check` (tests/content/test_easy_japanese.py)
        template: ...                 # manual items: text the trainee's answer cell starts with

Answer rules (`answer:` and each distractor may be a literal or one rule):

- `fact: <id>`: the fact's value;
- `deadline: {from: <date>, fact: <id>}` / `after: {date, fact}` / `months_after`: the due date of
  the fact's period after the event, by the fact's own rules (facts.due_date): its `counting`
  (first day excluded, first day included, or from the stated day) and, if its `closed_day_moves`
  is true, a last day on a Saturday, Sunday, public holiday or 29 Dec-3 Jan moved to the next open
  day;
- `before: {date, fact}` / `months_before`: the start of a window that opens the fact's period
  before the date (e.g. an extension can be filed from 3 months before expiry); never moved;
- `amount: {fact: <id>, times: 2, plus: 0}`, or a list of such terms, which are added up;
- `chronological: {A: <date rule>, B: <date rule>, ...}` (order items): the option letters ordered
  by the dates their rules give, earliest first.

Text in intro, case, context, prompt, options and model answers may use `{{fact:<id>}}` (the fact's
value with its unit, in Japanese; `{{fact:<id>:en}}` in English); model answers may also use
`{{key:<grade_id>}}` (the computed answer of an autograded item). Nothing is retyped by hand.

The nbgrader source notebook built from a bank (`build_notebook`, `write_source` and the cells they
write) lives in coordkit.content.notebooks; its names stay reachable from this module for code that
imports them from the old path `coordkit.banks` (looked up on first use, so no import cycle).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..checks import KINDS, normalize
from ..errors import AssignmentError, CoordkitError
from .facts import FactRegistry, deadline, due_date, read_yaml
from .rubrics import Rubric, check_rubric, load_rubric
from .vocab import COMPETENCIES, LIFE_DOMAINS as DOMAINS  # competencies and life domains (curriculum §5)

AUTO_KINDS = KINDS
ASSIGNMENT_KINDS = ("case_study", "test", "report")
CYCLES = ("training", "renewal")   # the certification training, or renewal training for the certified
_UNIT = re.compile(r"^(TP1-[A-E][1-9]|PRACTICE|TP2)$")
_GRADE_ID = re.compile(r"^q\d+_[a-z0-9_]+$")
_TEMPLATE = re.compile(r"\{\{\s*(fact|key)\s*:\s*([A-Za-z0-9_.]+)\s*(?::\s*(ja|en)\s*)?\}\}")
_ITEM_KEYS = {"grade_id", "kind", "points", "unit", "competency", "difficulty", "context", "domains", "prompt",
              "options", "answer", "accept", "distractors", "rubric", "model_answer", "template", "audience"}
AUDIENCES = ("client",)   # manual items whose model answer is said or written to the client: easy Japanese


@dataclass(frozen=True)
class Item:
    grade_id: str
    kind: str                      # one of AUTO_KINDS, or "manual"
    points: float
    prompt: str
    unit: str
    competency: str
    key: Any = None                # normal form of the right answer (auto items)
    accept: tuple = ()             # every accepted normal form (key first); text items may list several
    options: dict[str, str] = field(default_factory=dict)
    distractors: tuple = ()
    difficulty: float = 0.0        # logit scale, used by the simulator
    rubric: str | None = None      # graders/rubrics/<rubric>.yml for manual items
    model_answer: str = ""
    context: str = ""              # scenario shown before the question
    domains: tuple[str, ...] = ()
    template: str = ""             # manual items: kept in the released answer cell
    facts_used: tuple[str, ...] = ()   # facts the answer rule reads
    audience: str = ""             # "client": the model answer is addressed to the client (easy Japanese)

    @property
    def auto(self) -> bool:
        return self.kind != "manual"

    @property
    def letters(self) -> str:
        return "".join(self.options) or "ABCD"


@dataclass(frozen=True)
class Bank:
    id: str
    path: Path
    kind: str
    title_ja: str
    title_en: str
    units: tuple[str, ...]
    domains: tuple[str, ...]
    intro: str
    case: str
    items: tuple[Item, ...]
    rubric: Rubric | None = None
    cycle: str = "training"

    def item(self, grade_id: str) -> Item:
        for it in self.items:
            if it.grade_id == grade_id:
                return it
        raise AssignmentError(f"{self.path}: no item {grade_id!r}")

    @property
    def max_auto(self) -> float:
        return sum(i.points for i in self.items if i.auto)

    @property
    def max_total(self) -> float:
        return sum(i.points for i in self.items)


# --- answer rules ---------------------------------------------------------------------------------

def _add_months(day: dt.date, months: int) -> dt.date:
    """Calendar month arithmetic; a day the target month lacks becomes its last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def _shift(args: dict, facts: FactRegistry, sign: int) -> str:
    """Forwards (sign +1): the due date of fact `args['fact']` after the event on `args['from']` (or
    'date'), by the fact's own counting rule and closed-day rule (facts.due_date). Backwards (sign -1):
    the start of a window that opens the fact's period before the stated day (e.g. an extension can
    be filed from 3 months before expiry); a window's start does not move for closed days."""
    day = dt.date.fromisoformat(str(args["date"] if "date" in args else args["from"]))
    fact = facts[args["fact"]]
    times = args.get("times", 1)
    if fact.unit not in ("days", "months", "years"):
        raise AssignmentError(f"fact {fact.id!r} is in {fact.unit}, not a period (days, months, years)")
    if sign > 0 and fact.period:
        return due_date(fact, day, times=times).isoformat()
    # a window's start, or a distractor built from a length that is not a period (plain calendar)
    n = sign * fact.value * times
    if fact.unit == "days":
        return deadline(day, n).isoformat()
    return _add_months(day, n * (12 if fact.unit == "years" else 1)).isoformat()


def _amount(args: Any, facts: FactRegistry) -> int | float:
    terms = args if isinstance(args, list) else [args]
    return sum(facts.value(t["fact"]) * t.get("times", 1) + t.get("plus", 0) for t in terms)


def _chronological(args: dict, facts: FactRegistry) -> str:
    """Option letters ordered by the date each one's rule gives (earliest first)."""
    if not isinstance(args, dict) or len(args) < 2:
        raise ValueError("chronological maps two or more option letters to dates or date rules")
    days = {str(k): dt.date.fromisoformat(str(_apply(v, facts))) for k, v in args.items()}
    if len(set(days.values())) < len(days):
        raise AssignmentError("two options fall on the same date, so their order is ambiguous; "
                              "change a date in the case")
    return "-".join(sorted(days, key=days.get))


_RULES = {
    "fact": lambda args, facts: facts.value(args),
    "deadline": lambda args, facts: _shift(args, facts, +1),
    "after": lambda args, facts: _shift(args, facts, +1),
    "months_after": lambda args, facts: _shift(args, facts, +1),
    "before": lambda args, facts: _shift(args, facts, -1),
    "months_before": lambda args, facts: _shift(args, facts, -1),
    "amount": _amount,
    "chronological": _chronological,
}


def _apply(spec: Any, facts: FactRegistry) -> Any:
    if not isinstance(spec, dict):
        return spec
    if len(spec) != 1:
        raise ValueError(f"an answer rule has one key ({', '.join(_RULES)})")
    (rule, args), = spec.items()
    if rule not in _RULES:
        raise AssignmentError(f"unknown answer rule {rule!r}; use one of {', '.join(_RULES)}")
    return _RULES[rule](args, facts)


def _rule_facts(spec: Any) -> tuple[str, ...]:
    """The fact ids an answer rule reads."""
    if not isinstance(spec, dict) or len(spec) != 1:
        return ()
    (rule, args), = spec.items()
    if rule == "fact":
        return (str(args),)
    if rule == "chronological" and isinstance(args, dict):
        return tuple(f for v in args.values() for f in _rule_facts(v))
    terms = args if isinstance(args, list) else [args]
    return tuple(str(t["fact"]) for t in terms if isinstance(t, dict) and "fact" in t)


def _forward_facts(spec: Any) -> tuple[str, ...]:
    """The facts whose due dates a rule computes (deadline, after, months_after; also inside chronological)."""
    if not isinstance(spec, dict) or len(spec) != 1:
        return ()
    (rule, args), = spec.items()
    if rule == "chronological" and isinstance(args, dict):
        return tuple(f for v in args.values() for f in _forward_facts(v))
    if rule in ("deadline", "after", "months_after") and isinstance(args, dict) and "fact" in args:
        return (str(args["fact"]),)
    return ()


def compute_answer(spec: Any, facts: FactRegistry, *, where: str) -> Any:
    """The raw key from a bank's `answer:` entry (a literal, or a rule applied to facts)."""
    try:
        return _apply(spec, facts)
    except CoordkitError as exc:
        raise AssignmentError(f"{where}: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        rule = next(iter(spec)) if isinstance(spec, dict) and spec else "?"
        raise AssignmentError(f"{where}: answer rule {rule!r} is incomplete or wrong ({exc!r})") from None


def _default_distractors(kind: str, key: Any, letters: str) -> tuple:
    if kind == "choice":
        return tuple(c for c in letters if c != key)
    if kind == "order":
        parts = key.split("-")
        return tuple(dict.fromkeys(d for d in ("-".join(reversed(parts)), "-".join(parts[1:] + parts[:1]))
                                   if d != key))
    if kind == "date":
        day = dt.date.fromisoformat(key)
        return tuple((day + dt.timedelta(days=d)).isoformat() for d in (-1, 1, 16))
    if kind == "number":
        return (key // 2 if isinstance(key, int) else key / 2, key * 2)
    return ("",)


# --- text templates -------------------------------------------------------------------------------

def display_key(item: Item) -> str:
    """The key as a person writes it: 2025年4月14日, 500,000, B."""
    if item.kind == "date":
        day = dt.date.fromisoformat(item.key)
        return f"{day.year}年{day.month}月{day.day}日"
    if item.kind == "number":
        return f"{item.key:,}"
    return str(item.key)


def render_text(text: str, facts: FactRegistry, *, where: str, keys: dict[str, Item] | None = None) -> str:
    """Fill {{fact:id}} (and, when `keys` is given, {{key:grade_id}}) placeholders."""
    def fill(match: re.Match) -> str:
        what, name, lang = match.group(1), match.group(2), match.group(3) or "ja"
        if what == "fact":
            try:
                return facts[name].display(lang)
            except CoordkitError as exc:
                raise AssignmentError(f"{where}: {exc}") from None
        if keys is None:
            raise AssignmentError(f"{where}: {{{{key:{name}}}}} may only be used in a model answer; "
                                  "a prompt must not show an answer")
        if name not in keys or not keys[name].auto:
            raise AssignmentError(f"{where}: {{{{key:{name}}}}} names no autograded item of this bank")
        return display_key(keys[name])

    return _TEMPLATE.sub(fill, str(text or "")).strip()


# --- loading ----------------------------------------------------------------------------------------

def _strings(value: Any, where: str, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise AssignmentError(f"{where}: {what} must be a list of names")
    return tuple(value)


def _check_tags(raw: dict, where: str) -> None:
    if not _UNIT.match(str(raw["unit"])):
        raise AssignmentError(f"{where}: unit {raw['unit']!r} is not a syllabus unit code "
                              "(TP1-A1 ... TP1-E3, PRACTICE or TP2; see book/syllabus.yml)")
    if raw["competency"] not in COMPETENCIES:
        raise AssignmentError(f"{where}: competency {raw['competency']!r} is not one of {', '.join(COMPETENCIES)}")
    difficulty = raw.get("difficulty", 0.0)
    if isinstance(difficulty, bool) or not isinstance(difficulty, (int, float)) or not -4 <= difficulty <= 4:
        raise AssignmentError(f"{where}: difficulty {difficulty!r} must be a logit between -4 and 4")
    points = raw["points"]
    if isinstance(points, bool) or not isinstance(points, (int, float)) or points <= 0:
        raise AssignmentError(f"{where}: points must be a positive number")
    domains = _strings(raw.get("domains"), where, "domains")
    unknown = [d for d in domains if d not in DOMAINS]
    if unknown:
        raise AssignmentError(f"{where}: unknown domain(s) {unknown}; use {', '.join(DOMAINS)}")


def _auto_answer(raw: dict, kind: str, facts: FactRegistry, letters: str, where: str):
    gid = raw["grade_id"]

    def norm(value: Any) -> Any:
        try:
            return normalize(value, kind, name=gid, options=letters)
        except AssertionError:
            raise AssignmentError(f"{where}: {value!r} is not a valid {kind} answer") from None

    if "answer" not in raw:
        raise AssignmentError(f"{where}: an autograded item needs an answer")
    for fact_id in _forward_facts(raw["answer"]):
        if fact_id in facts and not facts[fact_id].period:
            raise AssignmentError(f"{where}: the answer counts a due date from fact {fact_id!r}, which is not a "
                                  "period (period: false in datasets/facts.yml); use a fact that is one, or "
                                  "give the date in the case")
    key = norm(compute_answer(raw["answer"], facts, where=where))
    accept = [key]
    for extra in raw.get("accept") or ():
        if kind != "text":
            raise AssignmentError(f"{where}: accept: lists are for text items only")
        value = norm(compute_answer(extra, facts, where=where))
        if value not in accept:
            accept.append(value)
    if kind == "order" and len(key.split("-")) < 2:
        raise AssignmentError(f"{where}: an order answer lists at least two letters")
    distractors = tuple(norm(compute_answer(d, facts, where=where)) for d in raw.get("distractors") or ()) \
        or _default_distractors(kind, key, letters)
    clash = [d for d in distractors if d in accept]
    if clash:
        raise AssignmentError(f"{where}: distractor {clash[0]!r} is an accepted answer; "
                              "change the distractor (or the fact changed: check datasets/facts.yml)")
    return key, tuple(accept), distractors


def _load_item(raw: Any, n: int, bank_id: str, facts: FactRegistry, path: Path, seen: set[str]) -> tuple[Item, str]:
    where = f"{path} item {n}"
    if not isinstance(raw, dict) or "grade_id" not in raw:
        raise AssignmentError(f"{where}: each item needs a grade_id like q{n}_what")
    gid = str(raw["grade_id"])
    where = f"{path} item {gid}"
    if gid in seen:
        raise AssignmentError(f"{where}: grade_id used twice; grade_ids are stable and unique")
    seen.add(gid)
    if not _GRADE_ID.match(gid):
        raise AssignmentError(f"{where}: grade_id must look like q<N>_<what> in lower case")
    unknown = set(raw) - _ITEM_KEYS
    if unknown:
        raise AssignmentError(f"{where}: unknown key(s) {sorted(unknown)}; known: {', '.join(sorted(_ITEM_KEYS))}")
    kind = raw.get("kind")
    if kind not in (*AUTO_KINDS, "manual"):
        raise AssignmentError(f"{where}: kind {kind!r} is not one of {(*AUTO_KINDS, 'manual')}")
    for key in ("prompt", "points", "unit", "competency"):
        if key not in raw:
            raise AssignmentError(f"{where}: missing {key!r}")
    _check_tags(raw, where)
    options = {str(k): render_text(v, facts, where=where) for k, v in (raw.get("options") or {}).items()}
    if any(not re.fullmatch(r"[A-H]", k) for k in options):
        raise AssignmentError(f"{where}: option labels are single letters A to H")
    if kind in ("choice", "order") and len(options) < 2:
        raise AssignmentError(f"{where}: a {kind} item lists its options (A, B, ...)")
    letters = "".join(options) or "ABCD"
    key, accept, distractors = None, (), ()
    if kind != "manual":
        key, accept, distractors = _auto_answer(raw, kind, facts, letters, where)
    else:
        if raw.get("rubric", bank_id) != bank_id:
            raise AssignmentError(f"{where}: the rubric of a manual item is graders/rubrics/{bank_id}.yml; "
                                  "remove 'rubric:' or set it to the bank id")
        if "answer" in raw:
            raise AssignmentError(f"{where}: a manual item has a model_answer, not an answer")
    if raw.get("audience") is not None and (kind != "manual" or raw["audience"] not in AUDIENCES):
        raise AssignmentError(f"{where}: audience is for manual items only, and is one of {AUDIENCES}")
    item = Item(grade_id=gid, kind=kind, points=float(raw["points"]), prompt=render_text(raw["prompt"], facts, where=where),
                unit=str(raw["unit"]), competency=str(raw["competency"]), key=key, accept=accept, options=options,
                distractors=distractors, difficulty=float(raw.get("difficulty", 0.0)),
                rubric=bank_id if kind == "manual" else None,
                context=render_text(raw.get("context"), facts, where=where),
                domains=_strings(raw.get("domains"), where, "domains"),
                template=render_text(raw.get("template"), facts, where=where),
                facts_used=_rule_facts(raw.get("answer")), audience=str(raw.get("audience") or ""))
    return item, str(raw.get("model_answer") or "")


def load_bank(path: Path | str, facts: FactRegistry, *, rubrics_dir: Path | str | None = None) -> Bank:
    """Load and validate one item bank (and the rubric of its manually graded items, from
    `rubrics_dir`, by default graders/rubrics next to graders/items); errors name the file, the
    item and the fix."""
    path = Path(path)
    data = read_yaml(path, what="item bank")
    if not isinstance(data, dict):
        raise AssignmentError(f"{path}: expected a mapping with id, kind, title_ja, title_en, items")
    for key in ("id", "kind", "title_ja", "title_en", "items"):
        if key not in data:
            raise AssignmentError(f"{path}: missing {key!r}")
    if data["id"] != path.stem:
        raise AssignmentError(f"{path}: id {data['id']!r} must equal the file name {path.stem!r}")
    if data["kind"] not in ASSIGNMENT_KINDS:
        raise AssignmentError(f"{path}: kind must be one of {ASSIGNMENT_KINDS}")
    if not isinstance(data["items"], list) or not data["items"]:
        raise AssignmentError(f"{path}: 'items' must be a non-empty list")
    cycle = data.get("cycle", "training")
    if cycle not in CYCLES:
        raise AssignmentError(f"{path}: cycle must be one of {CYCLES} (training is the default)")
    domains = _strings(data.get("domains"), str(path), "domains")
    if any(d not in DOMAINS for d in domains):
        raise AssignmentError(f"{path}: unknown domain in {list(domains)}; use {', '.join(DOMAINS)}")
    seen: set[str] = set()
    loaded = [_load_item(raw, n, data["id"], facts, path, seen) for n, raw in enumerate(data["items"], start=1)]
    keys = {item.grade_id: item for item, _ in loaded}
    items = tuple(replace(item, model_answer=render_text(model, facts, where=f"{path} item {item.grade_id}",
                                                         keys=keys))
                  for item, model in loaded)
    rubric = None
    manual = [(i.grade_id, i.points) for i in items if not i.auto]
    if manual:
        folder = Path(rubrics_dir) if rubrics_dir is not None else path.parent.parent / "rubrics"
        rubric = load_rubric(folder / f"{data['id']}.yml")
        check_rubric(rubric, manual, bank_path=path)
    return Bank(id=data["id"], path=path, kind=data["kind"], title_ja=data["title_ja"], title_en=data["title_en"],
                units=tuple(data.get("units", ())), domains=domains,
                intro=render_text(data.get("intro"), facts, where=str(path)),
                case=render_text(data.get("case"), facts, where=str(path)), items=items, rubric=rubric,
                cycle=cycle)


def bank_paths(items_dir: Path) -> dict[str, Path]:
    return {p.stem: p for p in sorted(Path(items_dir).glob("*.yml"))}


def load_banks(items_dir: Path, facts: FactRegistry, ids: list[str] | None = None, *,
               rubrics_dir: Path | str | None = None) -> list[Bank]:
    """Banks by id (all when ids is None); an unknown id names the ones that exist."""
    paths = bank_paths(items_dir)
    if ids:
        unknown = [i for i in ids if i not in paths]
        if unknown:
            raise AssignmentError(f"unknown assignment id(s) {', '.join(unknown)}; known: "
                                  f"{', '.join(paths) or '(none)'} (item banks in {items_dir})")
    return [load_bank(paths[i], facts, rubrics_dir=rubrics_dir) for i in (ids or list(paths))]


_NOTEBOOK_NAMES = ("how_to_answer", "example", "hidden_test", "ANSWERS_CHECK", "answers_check_source",
                   "build_notebook", "write_source")


def __getattr__(name: str):
    """`from coordkit.banks import build_notebook` (the path before the notebook builders moved to
    coordkit.content.notebooks) keeps working."""
    if name in _NOTEBOOK_NAMES:
        from . import notebooks
        return getattr(notebooks, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
