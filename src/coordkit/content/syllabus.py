"""The official syllabus: `book/syllabus.yml` -> dataclasses.

The file holds the structure of the ISA training (the 15 subjects of Training Program 1 in groups A-E,
the practice stage, Training Program 2 and the two test gates), each unit with its competencies, its
study time (marked as an assumption where ISA has not confirmed it) and the book pages that teach it.
The curriculum map (`coordkit.book.extensions.syllabus`), the unit box at the top of each module page and the
content tests all read it through this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ..errors import CoordkitError
from .facts import read_yaml

KINDS = ("subject", "practice", "group_training", "gate")
HOURS_STATUSES = ("confirmed", "assumption", "not_applicable")
GROUPS = ("A", "B", "C", "D", "E")
PAGE_DIRS = ("modules", "program")      # folders of book/ whose pages must each teach a unit

_TOP_KEYS = {"version", "documents", "notes", "competencies", "stages", "units", "supplementary"}
_UNIT_KEYS = {"code", "kind", "stage", "group", "name_ja", "name_en", "competencies", "hours",
              "hours_status", "duration", "pages", "source", "source_page", "assumptions"}
_CODE = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$")
_STEM = re.compile(r"^[a-z][a-z0-9_]*$")
_URL = re.compile(r"^https?://\S+$")


class SyllabusError(CoordkitError):
    """book/syllabus.yml is missing, malformed, or disagrees with the book's pages."""


@dataclass(frozen=True)
class Text:
    """A short text in both editions' languages."""
    en: str
    ja: str

    def get(self, lang: str = "en") -> str:
        return self.ja if lang == "ja" else self.en


@dataclass(frozen=True)
class Competency:
    code: str
    name: Text


@dataclass(frozen=True)
class Stage:
    code: str
    name: Text


@dataclass(frozen=True)
class Unit:
    code: str
    kind: str
    stage: str
    name_ja: str
    name_en: str
    competencies: tuple[str, ...]
    hours: float | None
    hours_status: str
    pages: tuple[str, ...]
    source: str
    group: str | None = None
    duration: Text | None = None            # a length that is not counted in hours (practice, TP2)
    duration_fact: str | None = None        # ... or a fact id in datasets/facts.yml
    source_page: int | None = None
    assumptions: tuple[Text, ...] = ()      # what a reader must know is not confirmed

    def name(self, lang: str = "en") -> str:
        return self.name_ja if lang == "ja" else self.name_en

    @property
    def assumed_hours(self) -> bool:
        return self.hours_status == "assumption"


@dataclass(frozen=True)
class Syllabus:
    path: Path
    units: tuple[Unit, ...]
    competencies: dict[str, Competency]
    stages: dict[str, Stage]
    documents: dict[str, Text] = field(default_factory=dict)
    notes: dict[str, Text] = field(default_factory=dict)
    supplementary: dict[str, str] = field(default_factory=dict)     # page stem -> reason

    def __iter__(self) -> Iterator[Unit]:
        return iter(self.units)

    def __len__(self) -> int:
        return len(self.units)

    def __getitem__(self, code: str) -> Unit:
        for unit in self.units:
            if unit.code == code:
                return unit
        raise SyllabusError(f"unknown syllabus unit {code!r}: it is not in {self.path}; "
                            f"known units are {', '.join(u.code for u in self.units)}")

    def in_stage(self, stage: str) -> tuple[Unit, ...]:
        return tuple(u for u in self.units if u.stage == stage)

    def units_for_page(self, stem: str) -> tuple[Unit, ...]:
        return tuple(u for u in self.units if stem in u.pages)

    def total_hours(self, stage: str) -> tuple[float, bool]:
        """Sum of the hours of a stage's units, and whether any of them is an assumption."""
        units = [u for u in self.in_stage(stage) if u.hours is not None]
        return sum(u.hours for u in units), any(u.assumed_hours for u in units)

    def document_title(self, url: str, lang: str = "en") -> str:
        return self.documents[url].get(lang) if url in self.documents else url


# -- loading ------------------------------------------------------------------------------------

def _text(value: Any, *, where: str, key: str) -> Text:
    if not isinstance(value, dict) or set(value) != {"en", "ja"} or not all(
            isinstance(value[k], str) and value[k].strip() for k in ("en", "ja")):
        raise SyllabusError(f"{where}: {key} must be a mapping with a non-empty 'en' and 'ja' text")
    return Text(en=value["en"].strip(), ja=value["ja"].strip())


def _named(items: Any, *, path: Path, key: str, cls: type) -> dict:
    if not isinstance(items, list) or not items:
        raise SyllabusError(f"{path}: '{key}' must be a non-empty list of {{code, en, ja}}")
    out: dict = {}
    for i, item in enumerate(items):
        where = f"{path} {key} entry {i + 1}"
        if not isinstance(item, dict) or not isinstance(item.get("code"), str):
            raise SyllabusError(f"{where}: expected a mapping with 'code', 'en' and 'ja'")
        if item["code"] in out:
            raise SyllabusError(f"{where}: {item['code']!r} is defined twice; keep one")
        out[item["code"]] = cls(item["code"], _text({k: item.get(k) for k in ("en", "ja")},
                                                     where=f"{where} ({item['code']})", key="the name"))
    return out


def _unit(entry: Any, index: int, *, path: Path, stages: dict, competencies: dict,
          notes: dict) -> Unit:
    where = f"{path} unit {index + 1}"
    if not isinstance(entry, dict):
        raise SyllabusError(f"{where}: expected a mapping with keys code, kind, stage, name_ja, ...")
    code = entry.get("code")
    if not isinstance(code, str) or not _CODE.match(code):
        raise SyllabusError(f"{where}: code {code!r} must look like 'TP1-B2' (capitals, digits, hyphens)")
    where = f"{path} unit {code}"
    unknown = set(entry) - _UNIT_KEYS
    if unknown:
        raise SyllabusError(f"{where}: unknown key(s) {sorted(unknown)}; known keys are {sorted(_UNIT_KEYS)}")
    missing = [k for k in ("kind", "stage", "name_ja", "name_en", "competencies", "hours_status",
                           "pages", "source") if entry.get(k) in (None, "")]
    if missing:
        raise SyllabusError(f"{where}: missing {', '.join(missing)}")
    kind, stage = entry["kind"], entry["stage"]
    if kind not in KINDS:
        raise SyllabusError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    if stage not in stages:
        raise SyllabusError(f"{where}: stage {stage!r} is not one of the stages {', '.join(stages)}")
    group = entry.get("group")
    if kind == "subject":
        if group not in GROUPS:
            raise SyllabusError(f"{where}: a subject needs a group, one of {', '.join(GROUPS)}")
        if not code.startswith(f"{stage}-{group}"):
            raise SyllabusError(f"{where}: the code of a group {group} subject of stage {stage} "
                                f"must start with '{stage}-{group}'")
    elif group is not None:
        raise SyllabusError(f"{where}: only subjects have a group; remove 'group' from this {kind}")
    comps = entry["competencies"]
    if not isinstance(comps, list) or any(c not in competencies for c in comps) or len(set(comps)) != len(comps):
        raise SyllabusError(f"{where}: competencies must be a list of distinct codes from "
                            f"{', '.join(competencies)}; got {comps!r}")
    if not comps and kind != "gate":
        raise SyllabusError(f"{where}: name the competencies this {kind} develops")
    hours, status = entry.get("hours"), entry["hours_status"]
    if status not in HOURS_STATUSES:
        raise SyllabusError(f"{where}: hours_status {status!r} is not one of {', '.join(HOURS_STATUSES)}")
    if hours is not None and (isinstance(hours, bool) or not isinstance(hours, (int, float)) or hours <= 0):
        raise SyllabusError(f"{where}: hours {hours!r} must be a positive number, or null")
    duration, duration_fact = entry.get("duration"), None
    if isinstance(duration, dict) and set(duration) == {"fact"}:
        duration_fact, duration = str(duration["fact"]), None
    elif duration is not None:
        duration = _text(duration, where=where, key="duration (or {fact: <fact id>})")
    timed = hours is not None or duration is not None or duration_fact is not None
    if status == "not_applicable" and timed:
        raise SyllabusError(f"{where}: hours_status is not_applicable, so remove hours and duration")
    if status != "not_applicable" and not timed:
        raise SyllabusError(f"{where}: give hours or a duration, or set hours_status: not_applicable")
    pages = entry["pages"]
    if not isinstance(pages, list) or not pages or not all(isinstance(p, str) and _STEM.match(p) for p in pages):
        raise SyllabusError(f"{where}: pages must be a non-empty list of page labels (file stems such as "
                            f"'residence_card'); got {pages!r}")
    if not _URL.match(str(entry["source"])):
        raise SyllabusError(f"{where}: source {entry['source']!r} is not a URL; give the ISA document")
    source_page = entry.get("source_page")
    if source_page is not None and (isinstance(source_page, bool) or not isinstance(source_page, int)):
        raise SyllabusError(f"{where}: source_page must be a page number")
    assumptions = []
    for item in entry.get("assumptions") or []:
        if isinstance(item, str):
            if item not in notes:
                raise SyllabusError(f"{where}: assumption {item!r} is not one of the notes "
                                    f"({', '.join(notes) or 'none defined'})")
            assumptions.append(notes[item])
        else:
            assumptions.append(_text(item, where=where, key="each assumption"))
    if status == "assumption" and not assumptions:
        raise SyllabusError(f"{where}: the study time is an assumption; say why under 'assumptions' "
                            "(a note key such as 'hours', or an en/ja text)")
    return Unit(code=code, kind=kind, stage=stage, group=group, name_ja=str(entry["name_ja"]).strip(),
                name_en=str(entry["name_en"]).strip(), competencies=tuple(comps), hours=hours,
                hours_status=status, duration=duration, duration_fact=duration_fact, pages=tuple(pages),
                source=entry["source"], source_page=source_page, assumptions=tuple(assumptions))


def load_syllabus(path: Path | str) -> Syllabus:
    """Load and validate `book/syllabus.yml`. Raises SyllabusError naming the file, the unit and the fix."""
    path = Path(path)
    data = read_yaml(path, what="syllabus", error=SyllabusError)
    if not isinstance(data, dict) or not isinstance(data.get("units"), list) or not data["units"]:
        raise SyllabusError(f"{path}: expected a top-level 'units:' list (see the lecturer's guide)")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise SyllabusError(f"{path}: unknown top-level key(s) {sorted(unknown)}; known keys are {sorted(_TOP_KEYS)}")
    competencies = _named(data.get("competencies"), path=path, key="competencies", cls=Competency)
    stages = _named(data.get("stages"), path=path, key="stages", cls=Stage)
    notes = {str(k): _text(v, where=f"{path} notes", key=str(k)) for k, v in (data.get("notes") or {}).items()}
    documents = {}
    for url, title in (data.get("documents") or {}).items():
        if not _URL.match(str(url)):
            raise SyllabusError(f"{path} documents: {url!r} is not a URL")
        documents[str(url)] = _text(title, where=f"{path} documents", key=str(url))
    units: list[Unit] = []
    for i, entry in enumerate(data["units"]):
        unit = _unit(entry, i, path=path, stages=stages, competencies=competencies, notes=notes)
        if any(u.code == unit.code for u in units):
            raise SyllabusError(f"{path} unit {i + 1}: code {unit.code!r} is used twice; codes are unique")
        units.append(unit)
    supplementary: dict[str, str] = {}
    for i, item in enumerate(data.get("supplementary") or []):
        where = f"{path} supplementary entry {i + 1}"
        if not isinstance(item, dict) or not _STEM.match(str(item.get("page", ""))) or not str(
                item.get("reason", "")).strip():
            raise SyllabusError(f"{where}: expected {{page: <file stem>, reason: <why it teaches no unit>}}")
        teaching = [u.code for u in units if item["page"] in u.pages]
        if teaching:
            raise SyllabusError(f"{where}: page {item['page']!r} teaches {', '.join(teaching)}, so it is "
                                "not supplementary; remove it from this list")
        supplementary[item["page"]] = str(item["reason"]).strip()
    return Syllabus(path=path, units=tuple(units), competencies=competencies, stages=stages,
                    documents=documents, notes=notes, supplementary=supplementary)


# -- the syllabus against the book's pages ------------------------------------------------------

@dataclass(frozen=True)
class Coverage:
    """How the syllabus and the pages under book/ match."""
    pages: dict[str, Path]                       # page label (file stem) -> file
    missing: tuple[tuple[str, str], ...]         # (unit code, page label) with no file
    orphans: tuple[Path, ...]                    # teaching pages that teach no unit, not supplementary
    ambiguous: tuple[str, ...]                   # labels used by more than one file

    @property
    def ok(self) -> bool:
        return not (self.missing or self.orphans or self.ambiguous)

    def problems(self) -> list[str]:
        out = [f"unit {code}: no page {stem}.md under book/; create it (book/modules/ for a subject, "
               "book/program/ for a stage or test) or fix 'pages' in book/syllabus.yml" for code, stem in self.missing]
        out += [f"{path}: teaches no syllabus unit; list it under a unit's 'pages' or under "
                "'supplementary' in book/syllabus.yml" for path in self.orphans]
        out += [f"page label {stem!r} is used by more than one file; rename one (labels are file stems)"
                for stem in self.ambiguous]
        return out


def check_coverage(syllabus: Syllabus, *, book_dir: Path, page_dirs: tuple[str, ...] = PAGE_DIRS) -> Coverage:
    """Every unit has its pages under `book_dir`; every page under `page_dirs` teaches a unit or is
    listed as supplementary."""
    book_dir = Path(book_dir)
    found: dict[str, list[Path]] = {}
    for file in sorted(book_dir.rglob("*.md")):
        parts = file.relative_to(book_dir).parts
        # book/ja/ is the Japanese edition of the same pages (parity: tests/content/test_editions.py)
        if not any(part.startswith((".", "_")) for part in parts) and parts[0] != "ja":
            found.setdefault(file.stem, []).append(file)
    taught = {stem for unit in syllabus for stem in unit.pages}
    missing = tuple((u.code, stem) for u in syllabus for stem in u.pages if stem not in found)
    orphans = tuple(file for folder in page_dirs for file in sorted((book_dir / folder).glob("*.md"))
                    if file.stem not in taught and file.stem not in syllabus.supplementary)
    ambiguous = tuple(stem for stem, files in found.items() if len(files) > 1)
    return Coverage(pages={stem: files[0] for stem, files in found.items()}, missing=missing,
                    orphans=orphans, ambiguous=ambiguous)
