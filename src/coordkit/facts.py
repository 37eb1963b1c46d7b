"""The facts registry: every procedural fact (deadline, amount, office, phone line) lives once in
`datasets/facts.yml`, with its official source URL and the date it was last verified. Book pages,
assignment tests and graders all read it through this module."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from .errors import CoordkitError, FactsError

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
REQUIRED = ("id", "value", "unit", "en", "ja", "source", "source_kind", "verified")
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
    verified: dt.date
    sources_more: tuple[str, ...] = ()
    note: str = ""
    value_ja: Any = None            # a text value as it reads in Japanese (e.g. 1月1日 for 1 January)
    note_ja: str = ""

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
        return (today - self.verified).days


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
                         "its official source URL and the date it was last verified")
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
    verified = entry["verified"]
    if isinstance(verified, str):
        try:
            verified = dt.date.fromisoformat(verified)
        except ValueError:
            raise FactsError(f"{where}: verified {verified!r} is not a date (YYYY-MM-DD)") from None
    if not isinstance(verified, dt.date):
        raise FactsError(f"{where}: verified must be a date (YYYY-MM-DD)")
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
                note_ja=str(entry.get("note_ja", "")).strip())


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
    """Facts last verified more than `older_than_days` days before `today`, oldest first."""
    today = today or dt.date.today()
    due = [f for f in registry if f.age_days(today) > older_than_days]
    return sorted(due, key=lambda f: (f.verified, f.id))


def parse_age(text: str) -> int:
    """'180d' -> 180, '6m' -> 180 (30-day months), '1y' -> 365; plain digits are days."""
    match = re.fullmatch(r"\s*(\d+)\s*([dmy]?)\s*", str(text))
    if not match:
        raise FactsError(f"cannot read the age {text!r}; write it like 180d, 6m or 1y")
    n, unit = int(match.group(1)), match.group(2) or "d"
    return n * {"d": 1, "m": 30, "y": 365}[unit]


def deadline(start: dt.date | str, days: int) -> dt.date:
    """A 'within N days' deadline counted as Japanese law counts periods: the day of the event
    is not counted (Civil Code Art. 140), so the last day is start + N days."""
    if isinstance(start, str):
        start = dt.date.fromisoformat(start)
    return start + dt.timedelta(days=days)


def used_fact_ids(texts: Iterable[str]) -> set[str]:
    """Fact ids referenced by {fact}`id` or {fact-text}`id` roles in MyST text."""
    pattern = re.compile(r"\{fact(?:-text)?\}`([^`]+)`")
    return {m.group(1).strip() for t in texts for m in pattern.finditer(t)}
