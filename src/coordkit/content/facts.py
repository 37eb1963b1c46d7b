"""The facts registry: every procedural fact (deadline, amount, office, phone line) lives once in
`datasets/facts.yml`, with its source URL and an honest record of how it was checked: `verified`
(the date a person read the named source) or `checked_against` (what it was checked against
instead, with the date). Book pages, assignment tests and graders all read it through this module.

Periods follow the law that sets them. A fact whose value is a period (unit days, months or years)
names its counting rule and whether the closed-day rule moves its last day:

- `counting: first_day_excluded`: the day of the event is not counted (Civil Code Art. 140); the
  general rule, e.g. notifications under the Immigration Act;
- `counting: first_day_included`: the day of the event is day 1, e.g. family-register
  notifications (Family Register Act Art. 43: 届出事件発生の日から起算);
- `counting: from_stated_day`: the period is counted from a day the rule states (the date passed in
  is that day, and it is day 1);
- `closed_day_moves: true`: a last day that falls on a day the office is closed (Saturday, Sunday,
  a public holiday, 29 December to 3 January) moves to the next open day (Act on Holidays of
  Administrative Organs Art. 2; Local Autonomy Act Art. 4-2(4)).

`due_date(fact, event_date)` applies both; `deadline(start, n)` keeps its old meaning (first day
excluded, no shift) for the pages and notebooks that call it."""

from __future__ import annotations

import calendar
import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from ..errors import CoordkitError, FactsError

UNITS = {
    # unit: (English format, Japanese format); English takes the singular for 1 (SINGULAR)
    "days": ("{v} days", "{v}日"),
    "months": ("{v} months", "{v}か月"),
    "years": ("{v} years", "{v}年"),
    "yen": ("¥{v:,}", "{v:,}円"),
    "age": ("age {v}", "{v}歳"),
    "percent": ("{v}%", "{v}%"),
    "count": ("{v:,}", "{v:,}"),
    "text": ("{v}", "{v}"),
}
SINGULAR = {"days": "{v} day", "months": "{v} month", "years": "{v} year"}
SOURCE_KINDS = {"ISA", "official", "municipal", "3P", "NEWS"}
OFFICIAL_KINDS = ("ISA", "official", "municipal")       # ISA/MOJ, ministries and e-Gov law texts, municipalities
THIRD_PARTY_KINDS = ("3P", "NEWS")
REQUIRED = ("id", "value", "unit", "en", "ja", "source", "source_kind")
PERIOD_UNITS = ("days", "months", "years")
COUNTING = ("first_day_excluded", "first_day_included", "from_stated_day")
_ISO_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")
_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses duplicate keys instead of silently keeping the last one."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {seen[key] + 1})", key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path, *, what: str, error: type[CoordkitError] = FactsError) -> Any:
    """Parse a YAML file strictly; errors (of class `error`, e.g. the caller's own error type) name
    the file, the line and the fix."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{what} file {path} not found; restore it from git "
                    f"(git checkout -- {path.name}) or check the path in pyproject.toml") from None
    except UnicodeDecodeError as exc:
        raise error(f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error(f"{path}{where}: malformed YAML ({problem}); fix the file and run again") from None
    except (ValueError, OverflowError) as exc:        # a date that is not in the calendar, e.g. 2025-02-30
        bad = next(((n, m.group(0)) for n, line in enumerate(text.splitlines(), 1)
                    for m in re.finditer(r"(?<![\d-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\d-])", line)
                    if not _is_date(*map(int, m.groups()))), None)
        where = f" line {bad[0]}: {bad[1]} is not a date in the calendar" if bad else f": {exc}"
        raise error(f"{path}{where}; write a real date as YYYY-MM-DD and run again") from None


def _is_date(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Fact:
    id: str
    value: Any
    unit: str
    en: str
    ja: str
    source: str
    source_kind: str
    verified: dt.date | None = None         # the date a person read the named source; None if nobody has
    sources_more: tuple[str, ...] = ()
    note: str = ""
    value_ja: Any = None            # a text value as it reads in Japanese (e.g. 1月1日 for 1 January)
    note_ja: str = ""
    checked_against: str = ""       # what it was checked against when the source was not read, with the date
    checked: dt.date | None = None  # the date of the last check of either kind
    counting: str | None = None     # periods: one of COUNTING
    closed_day_moves: bool | None = None   # periods: does a last day on a closed day move to the next open day
    period: bool = False            # the value is a period that runs from an event (a deadline, a window)
    in_force: Any = True            # True; "pending" (reported, not yet in force); or the date it applies from
    expected_start: str = ""        # pending facts: when it is expected to start (as reported)

    @property
    def pending(self) -> bool:
        """Reported but not in force yet (today: `in_force: pending`, or a start date still to come)."""
        return self.in_force == "pending" or (isinstance(self.in_force, dt.date) and self.in_force > dt.date.today())

    @property
    def official(self) -> bool:
        return self.source_kind in OFFICIAL_KINDS

    @property
    def last_checked(self) -> dt.date:
        """The later of `verified` and the date in `checked_against`."""
        days = [d for d in (self.verified, self.checked) if d is not None]
        return max(days)

    def status(self, lang: str = "en") -> str:
        """What was really checked, as a reader sees it: 'verified 2026-12-01' or 'checked against ...'."""
        if self.verified is not None:
            return f"verified {self.verified.isoformat()}" if lang == "en" else f"出典確認日 {self.verified.isoformat()}"
        return (f"checked against {self.checked_against}" if lang == "en"
                else f"照合先: {self.checked_against}（出典ページは未確認）")

    def pending_label(self, lang: str = "en") -> str:
        """'' for a fact in force; otherwise the words a page shows next to the value."""
        if not self.pending:
            return ""
        start = self.expected_start or (self.in_force.isoformat() if isinstance(self.in_force, dt.date) else "")
        if lang == "ja":
            return f"（未施行。施行予定: {start}）" if start else "（未施行）"
        return f" (not yet in force; expected from {start})" if start else " (not yet in force)"

    def caveat(self, lang: str = "en") -> str:
        """The note a reader must see, in the edition's language (English if no Japanese note)."""
        return (self.note_ja or self.note) if lang == "ja" else self.note

    def display(self, lang: str = "en") -> str:
        """The value with its unit, e.g. '14 days' / '14日', '1 year' / '1年', '¥500,000' / '500,000円'."""
        en, ja = UNITS[self.unit]
        if lang == "ja":
            return ja.format(v=self.value_ja if self.value_ja is not None else self.value)
        if self.value == 1 and self.unit in SINGULAR:
            en = SINGULAR[self.unit]
        return en.format(v=self.value)

    def statement(self, lang: str = "en") -> str:
        """The sentence that states the fact, with the value filled in."""
        return (self.ja if lang == "ja" else self.en).replace("{value}", self.display(lang))

    def age_days(self, today: dt.date) -> int:
        return (today - self.last_checked).days

    def counting_text(self, lang: str = "en") -> str:
        """How the period is counted, in words (empty for facts that are not periods)."""
        if not self.period:
            return ""
        rule = {"en": {"first_day_excluded": "the day of the event is not counted (Civil Code Art. 140)",
                       "first_day_included": "the day of the event counts as day 1",
                       "from_stated_day": "counted from the day the rule states"},
                "ja": {"first_day_excluded": "初日不算入（民法第140条）",
                       "first_day_included": "初日算入（事由が生じた日を1日目として数える）",
                       "from_stated_day": "定められた日から起算"}}[lang][self.counting]
        moves = {"en": ("; a last day on a closed day moves to the next open day",
                        "; the last day does not move for closed days"),
                 "ja": ("。末日が閉庁日なら翌開庁日まで", "。末日が閉庁日でも延びない")}[lang]
        return rule + moves[0 if self.closed_day_moves else 1]


@dataclass(frozen=True)
class FactRegistry:
    path: Path
    facts: dict[str, Fact] = field(default_factory=dict)

    def __getitem__(self, fact_id: str) -> Fact:
        try:
            return self.facts[fact_id]
        except KeyError:
            close = difflib.get_close_matches(fact_id, self.facts, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise FactsError(f"unknown fact {fact_id!r}: it is not in {self.path}.{hint} "
                             "Add it there with its source and verification date.") from None

    def __contains__(self, fact_id: str) -> bool:
        return fact_id in self.facts

    def __iter__(self):
        return iter(self.facts.values())

    def __len__(self) -> int:
        return len(self.facts)

    def value(self, fact_id: str) -> Any:
        return self[fact_id].value


def _check_entry(entry: Any, index: int, path: Path) -> Fact:
    where = f"{path} entry {index + 1}"
    if not isinstance(entry, dict):
        raise FactsError(f"{where}: expected a mapping with keys {', '.join(REQUIRED)}")
    if isinstance(entry.get("id"), str):
        where += f" ({entry['id']})"
    missing = [k for k in REQUIRED if entry.get(k) in (None, "")]
    if missing:
        raise FactsError(f"{where}: missing {', '.join(missing)}; every fact needs its value, "
                         "its official source URL and a record of how it was checked")
    if entry.get("verified") in (None, "") and entry.get("checked_against") in (None, ""):
        raise FactsError(f"{where}: missing verified or checked_against; write verified: YYYY-MM-DD only "
                         "if a person read the named source that day, otherwise checked_against: what the "
                         "fact was checked against, with the date, e.g. 'shared/domain/curriculum.md (2026-12-07)'")
    if not _ID.match(str(entry["id"])):
        raise FactsError(f"{where}: id must look like 'domain.name' in lower case, e.g. 'residence.moving_days'")
    if entry["unit"] not in UNITS:
        raise FactsError(f"{where}: unknown unit {entry['unit']!r}; use one of {', '.join(UNITS)}")
    if entry["source_kind"] not in SOURCE_KINDS:
        raise FactsError(f"{where}: source_kind {entry['source_kind']!r} is not one of {sorted(SOURCE_KINDS)}")
    sources = [entry["source"], *entry.get("sources_more", [])]
    for url in sources:
        if not re.match(r"^https?://\S+$", str(url)):
            raise FactsError(f"{where}: source {url!r} is not a URL; give the official page it comes from")
        if not str(url).startswith("https://"):
            raise FactsError(f"{where}: source {url!r} uses http; write the https address")
    verified = entry.get("verified")
    if isinstance(verified, str):
        try:
            verified = dt.date.fromisoformat(verified)
        except ValueError:
            raise FactsError(f"{where}: verified {verified!r} is not a date (YYYY-MM-DD)") from None
    if verified is not None and (not isinstance(verified, dt.date) or isinstance(verified, dt.datetime)):
        raise FactsError(f"{where}: verified must be a date (YYYY-MM-DD): the day a person read the source")
    checked_against = str(entry.get("checked_against") or "").strip()
    checked = None
    if checked_against:
        found = _ISO_DATE.search(checked_against)
        if not found:
            raise FactsError(f"{where}: checked_against {checked_against!r} has no date; add it in brackets, "
                             "e.g. 'shared/domain/curriculum.md (2026-12-07)'")
        try:
            checked = dt.date.fromisoformat(found.group(1))
        except ValueError:
            raise FactsError(f"{where}: checked_against has an impossible date {found.group(1)!r}") from None
    period = bool(entry.get("period", entry["unit"] in PERIOD_UNITS))
    if period and entry["unit"] not in PERIOD_UNITS:
        raise FactsError(f"{where}: period: true needs a unit of days, months or years")
    counting, moves = entry.get("counting"), entry.get("closed_day_moves")
    if period:
        if counting not in COUNTING:
            raise FactsError(f"{where}: a period needs counting: one of {', '.join(COUNTING)} (the law that sets "
                             "it says whether the day of the event counts); if the value is not a period "
                             "that runs from an event, write period: false")
        if not isinstance(moves, bool):
            raise FactsError(f"{where}: a period needs closed_day_moves: true or false (does a last day on a "
                             "Saturday, Sunday, public holiday or 29 Dec-3 Jan move to the next open day?)")
    elif counting is not None or moves is not None:
        raise FactsError(f"{where}: counting and closed_day_moves are for periods (unit days, months or years)")
    in_force = entry.get("in_force", True)
    if isinstance(in_force, str) and in_force != "pending":
        try:
            in_force = dt.date.fromisoformat(in_force)
        except ValueError:
            raise FactsError(f"{where}: in_force must be true, pending or a date (YYYY-MM-DD)") from None
    if not (in_force is True or in_force == "pending" or isinstance(in_force, dt.date)):
        raise FactsError(f"{where}: in_force must be true, pending or a date (YYYY-MM-DD)")
    expected_start = entry.get("expected_start")
    if in_force == "pending" and expected_start in (None, ""):
        raise FactsError(f"{where}: a pending fact says when it is expected to start (expected_start:)")
    if entry["unit"] in ("days", "months", "years", "yen", "age", "count") and not isinstance(entry["value"], int):
        raise FactsError(f"{where}: value {entry['value']!r} must be a whole number for unit {entry['unit']}")
    if entry.get("note") and not entry.get("note_ja"):
        raise FactsError(f"{where}: the note has no Japanese version; add note_ja so that readers of the "
                         "Japanese edition see the caveat too")
    for lang in ("en", "ja"):
        if "{value}" not in str(entry[lang]) and entry["unit"] != "text":
            raise FactsError(f"{where}: the {lang} statement must contain {{value}} where the value goes")
    if (entry["unit"] == "text" and "{value}" in str(entry["ja"]) and entry.get("value_ja") is None
            and re.search(r"[A-Za-z]{2,}", str(entry["value"]))):
        raise FactsError(f"{where}: the Japanese statement would show the English value {entry['value']!r}; "
                         "add value_ja with the value as it reads in Japanese")
    return Fact(id=entry["id"], value=entry["value"], unit=entry["unit"], en=str(entry["en"]).strip(),
                ja=str(entry["ja"]).strip(), source=entry["source"], source_kind=entry["source_kind"],
                verified=verified, sources_more=tuple(entry.get("sources_more", [])),
                note=str(entry.get("note", "")).strip(), value_ja=entry.get("value_ja"),
                note_ja=str(entry.get("note_ja", "")).strip(), checked_against=checked_against,
                checked=checked, counting=counting, closed_day_moves=moves, period=period,
                in_force=in_force, expected_start=str(expected_start or ""))


def load_facts(path: Path | str) -> FactRegistry:
    """Load and validate the facts registry. Raises FactsError naming the file, entry and fix."""
    path = Path(path)
    data = read_yaml(path, what="facts")
    if not isinstance(data, dict) or not isinstance(data.get("facts"), list):
        raise FactsError(f"{path}: expected a top-level 'facts:' list; see the lecturer's guide, "
                         "'Update a fact'")
    facts: dict[str, Fact] = {}
    for i, entry in enumerate(data["facts"]):
        fact = _check_entry(entry, i, path)
        if fact.id in facts:
            raise FactsError(f"{path} entry {i + 1}: fact {fact.id!r} is defined twice; keep one")
        facts[fact.id] = fact
    return FactRegistry(path=path, facts=facts)


def review_facts(registry: FactRegistry, *, older_than_days: int, today: dt.date | None = None) -> list[Fact]:
    """Facts last checked (verified, or checked against something else) more than `older_than_days`
    days before `today`, oldest first."""
    today = today or dt.date.today()
    due = [f for f in registry if f.age_days(today) > older_than_days]
    return sorted(due, key=lambda f: (f.last_checked, f.id))


REVIEW_KINDS = {
    "started": "pending facts whose expected start has come: check the rule now in force and update the fact",
    "pending": "pending facts (reported, not yet in force): watch for the start date",
    "unread": "source never read by a person (checked_against only): open the source, then set verified",
    "third_party": "third-party or press source: find an official page (ISA, MOJ, MHLW, Japan Pension "
                   "Service, NTA, e-Gov law text, municipality) and cite it first",
    "stale": "last check older than the review age: check the source again",
}


@dataclass(frozen=True)
class ReviewItem:
    kind: str           # a key of REVIEW_KINDS
    fact: Fact
    detail: str

    def to_dict(self) -> dict:
        return {"kind": self.kind, "id": self.fact.id, "source_kind": self.fact.source_kind,
                "source": self.fact.source, "detail": self.detail}


def review_due(registry: FactRegistry, *, older_than_days: int, today: dt.date | None = None) -> dict[str, list[ReviewItem]]:
    """Everything in the registry that is due for a person's attention, by kind (see REVIEW_KINDS);
    a fact may be due for several reasons. Kinds with nothing due are left out."""
    today = today or dt.date.today()
    out: dict[str, list[ReviewItem]] = {k: [] for k in REVIEW_KINDS}
    for fact in registry:
        if fact.in_force == "pending" or isinstance(fact.in_force, dt.date) and fact.in_force > today:
            start = _start_date(fact)
            if start is not None and start <= today:
                out["started"].append(ReviewItem("started", fact, f"expected from {fact.expected_start or start}"))
            else:
                out["pending"].append(ReviewItem("pending", fact, f"expected from {fact.expected_start or start}"))
        if fact.verified is None:
            out["unread"].append(ReviewItem("unread", fact, f"checked against {fact.checked_against}"))
        if fact.source_kind in THIRD_PARTY_KINDS:
            out["third_party"].append(ReviewItem("third_party", fact, f"{fact.source_kind}: {fact.source}"))
        if fact.age_days(today) > older_than_days:
            out["stale"].append(ReviewItem("stale", fact, f"last checked {fact.last_checked} "
                                                          f"({fact.age_days(today)} days ago)"))
    return {k: v for k, v in out.items() if v}


def _start_date(fact: Fact) -> dt.date | None:
    if isinstance(fact.in_force, dt.date):
        return fact.in_force
    found = _ISO_DATE.search(fact.expected_start or "")
    return dt.date.fromisoformat(found.group(1)) if found else None


def parse_age(text: str) -> int:
    """'180d' -> 180, '6m' -> 180 (30-day months), '1y' -> 365; plain digits are days."""
    match = re.fullmatch(r"\s*(\d+)\s*([dmy]?)\s*", str(text))
    if not match:
        raise FactsError(f"cannot read the age {text!r}; write it like 180d, 6m or 1y")
    n, unit = int(match.group(1)), match.group(2) or "d"
    return n * {"d": 1, "m": 30, "y": 365}[unit]


def deadline(start: dt.date | str, days: int) -> dt.date:
    """A 'within N days' deadline under the general rule of the Civil Code: the day of the event
    is not counted (Art. 140), so the last day is start + N days. No closed-day shift: for a fact of
    the registry use `due_date(fact, event_date)`, which applies the fact's own rules."""
    if isinstance(start, str):
        start = dt.date.fromisoformat(start)
    return start + dt.timedelta(days=days)


# --- counting periods and the closed-day rule -------------------------------------------------------

def _as_date(day: dt.date | str) -> dt.date:
    return dt.date.fromisoformat(day) if isinstance(day, str) else day


def is_closed_day(day: dt.date | str) -> bool:
    """Is a government office closed on this day? Saturdays, Sundays, national holidays (including
    substitute holidays and 国民の休日, from the `jpholiday` library) and the year-end closure,
    29 December to 3 January (Act on Holidays of Administrative Organs Art. 1; municipal ordinances
    under Local Autonomy Act Art. 4-2)."""
    import jpholiday

    day = _as_date(day)
    if day.weekday() >= 5:
        return True
    if (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3):
        return True
    return bool(jpholiday.is_holiday(day))


def next_open_day(day: dt.date | str) -> dt.date:
    """The day itself if offices are open then, otherwise the next day they are."""
    day = _as_date(day)
    while is_closed_day(day):
        day += dt.timedelta(days=1)
    return day


def _corresponding_day(day: dt.date, months: int) -> dt.date | None:
    """The day with the same number `months` calendar months later, or None if that month lacks it."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    if day.day > calendar.monthrange(year, month + 1)[1]:
        return None
    return dt.date(year, month + 1, day.day)


def period_end(first_day: dt.date | str, n: int, unit: str) -> dt.date:
    """The last day of a period of `n` days, months or years whose first counted day is `first_day`
    (Civil Code Art. 143: a period in months or years ends on the day before the day corresponding
    to the first day in the last month, or on the last day of that month if it has no such day)."""
    first_day = _as_date(first_day)
    if unit == "days":
        return first_day + dt.timedelta(days=n - 1)
    if unit not in ("months", "years"):
        raise FactsError(f"unit {unit!r} is not a period (days, months or years)")
    months = n * (12 if unit == "years" else 1)
    corresponding = _corresponding_day(first_day, months)
    if corresponding is None:
        index = first_day.year * 12 + first_day.month - 1 + months
        year, month = divmod(index, 12)
        return dt.date(year, month + 1, calendar.monthrange(year, month + 1)[1])
    return corresponding - dt.timedelta(days=1)


def last_day(fact: Fact, event_date: dt.date | str, *, times: int = 1) -> dt.date:
    """The last day of the fact's period after the event, by the fact's counting rule, before any
    closed-day shift."""
    if not fact.period:
        raise FactsError(f"fact {fact.id!r} is not a period that runs from an event (unit {fact.unit}); "
                         "it has no due date")
    event_date = _as_date(event_date)
    first = event_date + dt.timedelta(days=1) if fact.counting == "first_day_excluded" else event_date
    return period_end(first, fact.value * times, fact.unit)


def due_date(fact: Fact, event_date: dt.date | str, *, times: int = 1) -> dt.date:
    """The day by which the act is due: the fact's own counting rule applied to the event date,
    then, if the fact's closed_day_moves is true, moved to the next open day."""
    end = last_day(fact, event_date, times=times)
    return next_open_day(end) if fact.closed_day_moves else end


def used_fact_ids(texts: Iterable[str]) -> set[str]:
    """Fact ids referenced by {fact}`id` or {fact-text}`id` roles in MyST text."""
    pattern = re.compile(r"\{fact(?:-text)?\}`([^`]+)`")
    return {m.group(1).strip() for t in texts for m in pattern.finditer(t)}
