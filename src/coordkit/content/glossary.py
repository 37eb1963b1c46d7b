"""The bilingual glossary: one file, `datasets/glossary.yml`, drives the English and the Japanese
edition of the book. Each entry carries the English term, the official Japanese term, its reading in
hiragana, and a one-sentence explanation in easy Japanese (やさしい日本語) that a coordinator can read
out to a client as it is.

Explanations carry no numbers: deadlines, amounts and phone lines live in `datasets/facts.yml`.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CoordkitError
from .easyja import plain
from .facts import read_yaml
from .vocab import DOMAIN_CHAPTERS

# The life-domain chapters of the book (book/domains/<stem>.md); an entry's `domain` names one.
DOMAINS = tuple(DOMAIN_CHAPTERS)
REQUIRED = ("id", "en", "ja", "reading", "easy_ja")
OPTIONAL = ("see_also", "domain")
MAX_EASY_JA = 60            # characters: easy Japanese keeps sentences short

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_READING = re.compile(r"^[\u3041-\u3096\u30fc\u30fb\u3000 ]+$")          # hiragana, ー, ・, spaces
_JAPANESE = re.compile(r"[\u3041-\u3096\u30a1-\u30fa\u4e00-\u9fff]")     # kana or kanji
_DIGIT = re.compile(r"[0-9０-９]")


class GlossaryError(CoordkitError):
    """datasets/glossary.yml is missing, malformed, or an entry breaks the schema."""


@dataclass(frozen=True)
class GlossaryEntry:
    id: str
    en: str
    ja: str
    reading: str
    easy_ja: str
    see_also: tuple[str, ...] = ()
    domain: str | None = None

    def term(self, lang: str = "en") -> str:
        """The headword of the edition: the English term, or the official Japanese term."""
        return self.ja if lang == "ja" else self.en

    def other_term(self, lang: str = "en") -> str:
        return self.en if lang == "ja" else self.ja

    def sort_key(self, lang: str = "en") -> str:
        """English order by the English term; Japanese order (gojūon) by the reading, ignoring the
        long-vowel mark, middle dots and spaces as dictionaries do."""
        if lang == "ja":
            return re.sub(r"[\u30fc\u30fb\u3000 ]", "", self.reading)
        return self.en.casefold()

    def to_dict(self) -> dict:
        return {"id": self.id, "en": self.en, "ja": self.ja, "reading": self.reading,
                "easy_ja": self.easy_ja, "see_also": list(self.see_also), "domain": self.domain}


@dataclass(frozen=True)
class Glossary:
    path: Path
    entries: dict[str, GlossaryEntry] = field(default_factory=dict)

    def __getitem__(self, entry_id: str) -> GlossaryEntry:
        try:
            return self.entries[entry_id]
        except KeyError:
            close = difflib.get_close_matches(entry_id, self.entries, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise GlossaryError(f"unknown glossary entry {entry_id!r}: it is not in {self.path}.{hint} "
                                "Add it there with en, ja, reading and easy_ja.") from None

    def __contains__(self, entry_id: str) -> bool:
        return entry_id in self.entries

    def __iter__(self):
        return iter(self.entries.values())

    def __len__(self) -> int:
        return len(self.entries)

    def find(self, term: str) -> GlossaryEntry | None:
        """The entry whose English or Japanese term is `term` (case-insensitive), as {term} resolves it."""
        wanted = term.strip().casefold()
        for entry in self:
            if wanted in (entry.en.casefold(), entry.ja.casefold()):
                return entry
        return None

    def ordered(self, lang: str = "en") -> list[GlossaryEntry]:
        return sorted(self, key=lambda e: (e.sort_key(lang), e.id))

    def for_domain(self, domain: str, *, lang: str = "en") -> list[GlossaryEntry]:
        if domain not in DOMAINS:
            raise GlossaryError(f"unknown domain {domain!r}; use one of {', '.join(DOMAINS)}")
        return [e for e in self.ordered(lang) if e.domain == domain]


def _text(entry: dict, key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise GlossaryError(f"{where}: {key} must be non-empty text")
    return value.strip()


def _check_entry(entry: Any, index: int, path: Path) -> GlossaryEntry:
    where = f"{path} entry {index + 1}"
    if not isinstance(entry, dict):
        raise GlossaryError(f"{where}: expected a mapping with keys {', '.join(REQUIRED)}")
    if isinstance(entry.get("id"), str):
        where += f" ({entry['id']})"
    missing = [k for k in REQUIRED if entry.get(k) in (None, "")]
    if missing:
        raise GlossaryError(f"{where}: missing {', '.join(missing)}; every entry needs the English term, "
                            "the official Japanese term, its reading in hiragana and an easy-Japanese explanation")
    unknown = sorted(set(entry) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise GlossaryError(f"{where}: unknown key(s) {unknown}; allowed keys are "
                            f"{', '.join(REQUIRED + OPTIONAL)}")
    entry_id = str(entry["id"])
    if not _ID.match(entry_id):
        raise GlossaryError(f"{where}: id must be lower-case snake_case, e.g. 'residence_card'")
    en, ja = _text(entry, "en", where), _text(entry, "ja", where)
    reading, easy = _text(entry, "reading", where), _text(entry, "easy_ja", where)
    if _JAPANESE.search(en):
        raise GlossaryError(f"{where}: en {en!r} contains Japanese; put the Japanese term under ja")
    if not _JAPANESE.search(ja):
        raise GlossaryError(f"{where}: ja {ja!r} has no Japanese; give the official Japanese term")
    if not _READING.match(reading):
        raise GlossaryError(f"{where}: reading {reading!r} must be hiragana only (katakana words too, "
                            "e.g. ざいりゅうかーど)")
    if not easy.endswith("。") or easy.count("。") != 1:
        raise GlossaryError(f"{where}: easy_ja must be exactly one sentence ending in 。; split or shorten it")
    if len(plain(easy)) > MAX_EASY_JA:      # readings 漢字（かんじ） and spaces between phrases not counted
        raise GlossaryError(f"{where}: easy_ja has {len(plain(easy))} characters; keep it to {MAX_EASY_JA} or fewer "
                            "(short sentences are what makes Japanese easy)")
    if _DIGIT.search(easy):
        raise GlossaryError(f"{where}: easy_ja contains a number; deadlines and amounts belong in "
                            "datasets/facts.yml, so explain the term without them")
    see_also = entry.get("see_also", [])
    if not isinstance(see_also, list) or not all(isinstance(s, str) for s in see_also):
        raise GlossaryError(f"{where}: see_also must be a list of entry ids, e.g. [residence_card]")
    if entry_id in see_also or len(set(see_also)) != len(see_also):
        raise GlossaryError(f"{where}: see_also must not repeat an id or name the entry itself")
    domain = entry.get("domain")
    if domain is not None and domain not in DOMAINS:
        raise GlossaryError(f"{where}: domain {domain!r} is not a life-domain chapter; "
                            f"use one of {', '.join(DOMAINS)} or leave it out")
    return GlossaryEntry(id=entry_id, en=en, ja=ja, reading=reading, easy_ja=easy,
                         see_also=tuple(see_also), domain=domain)


def load_glossary(path: Path | str) -> Glossary:
    """Load and validate the glossary. Raises GlossaryError naming the file, the entry and the fix."""
    path = Path(path)
    data = read_yaml(path, what="glossary", error=GlossaryError)
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise GlossaryError(f"{path}: expected a top-level 'entries:' list of terms")
    entries: dict[str, GlossaryEntry] = {}
    terms: dict[str, str] = {}              # every headword (en and ja, case-folded) -> entry id
    for i, raw in enumerate(data["entries"]):
        entry = _check_entry(raw, i, path)
        if entry.id in entries:
            raise GlossaryError(f"{path} entry {i + 1}: id {entry.id!r} is defined twice; keep one")
        for term in (entry.en, entry.ja):
            key = term.casefold()
            if key in terms:
                raise GlossaryError(f"{path} entry {i + 1} ({entry.id}): the term {term!r} is already used by "
                                    f"{terms[key]!r}; a term can head only one entry, so merge or rename them")
            terms[key] = entry.id
        entries[entry.id] = entry
    for i, entry in enumerate(entries.values()):
        for ref in entry.see_also:
            if ref not in entries:
                close = difflib.get_close_matches(ref, entries, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise GlossaryError(f"{path} entry {i + 1} ({entry.id}): see_also names unknown id "
                                    f"{ref!r}{hint}; fix the id or add that entry")
    return Glossary(path=path, entries=entries)


def used_terms(texts) -> set[str]:
    """Targets of {term}`...` roles in MyST text ({term}`label <target>` gives the target)."""
    pattern = re.compile(r"\{term\}`([^`]+)`")
    found = set()
    for text in texts:
        for match in pattern.finditer(text):
            body = match.group(1).strip()
            explicit = re.fullmatch(r"(?s).*<([^<>]+)>", body)
            found.add(" ".join((explicit.group(1) if explicit else body).split()))   # as Sphinx normalises
    return found
