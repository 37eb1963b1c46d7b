"""Toolkit settings: `[tool.coordkit]` in pyproject.toml, read once into a frozen dataclass."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from .errors import ConfigError


@dataclass(frozen=True)
class Settings:
    root: Path
    facts: Path
    course_root: Path
    items_dir: Path
    rubrics_dir: Path
    evaluation_dir: Path
    cohorts_dir: Path
    reports_dir: Path
    build_dir: Path
    db_url: str
    register_url: str = ""          # the register of certified coordinators (personal data; git-ignored)
    default_cohort: str = "sample"
    default_seed: int = 2024
    default_trainees: int = 60
    marking_margin: float = 1.0     # double marks further apart than this (points) go to moderation
    course_id: str = "coordkit"     # the nbgrader course id of course_root
    courses_dir: Path | None = None  # one nbgrader course per cohort: <courses_dir>/<course id>/ (coordkit course create)
    exchange_root: Path | None = None  # nbgrader's exchange (Exchange.root); None: nbgrader's default
    lecturers_group: str = "lecturers"  # the system group that owns course files (deploy/)
    trainees_group: str = "trainees"
    db_template: str = ""           # db_url as written (may hold {course}); db_url is the default course's
    calendar: Path | None = None    # the course calendar: due dates and late penalty (graders/calendar.yml)
    syllabus: Path | None = None    # the official syllabus units (book/syllabus.yml)
    # [tool.coordkit.certification]: overrides of the certification rule (coordkit.rule), e.g. pass marks
    certification: dict = field(default_factory=dict, hash=False)

    def with_overrides(self, **changes) -> "Settings":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


_PATH_KEYS = ("facts", "course_root", "items_dir", "rubrics_dir", "evaluation_dir",
              "cohorts_dir", "reports_dir", "build_dir")
_OPTIONAL_PATH_KEYS = ("courses_dir", "exchange_root")
COURSE_ID = re.compile(r"^[a-z][a-z0-9]{1,19}$")


def find_root(start: Path | None = None) -> Path:
    """The nearest folder at or above `start` whose pyproject.toml has [tool.coordkit]."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and "[tool.coordkit]" in candidate.read_text(encoding="utf-8"):
            return folder
    raise ConfigError(
        f"no pyproject.toml with [tool.coordkit] at or above {here}; "
        "run coordkit from inside a coordkit checkout (or pass --root)")


def absolute_db_url(url: str, root: Path) -> str:
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/"):
        return prefix + str(root / url[len(prefix):])
    return url


def load_settings(root: Path | None = None) -> Settings:
    """Read `[tool.coordkit]` from `root/pyproject.toml` (root found upwards from cwd if None)."""
    root = find_root(root) if root is None else Path(root).resolve()
    pyproject = root / "pyproject.toml"
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{pyproject} not found; pass the folder of a coordkit checkout") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{pyproject} is not valid TOML ({exc}); fix the file") from None
    table = data.get("tool", {}).get("coordkit")
    if table is None:
        raise ConfigError(f"{pyproject} has no [tool.coordkit] table; copy it from the coordkit repository")
    known = {f.name for f in fields(Settings)} - {"root", "db_template"}
    unknown = set(table) - known
    if unknown:
        raise ConfigError(f"{pyproject} [tool.coordkit]: unknown key(s) {sorted(unknown)}; "
                          f"known keys are {sorted(known)}")
    missing = [k for k in (*_PATH_KEYS, "db_url") if k not in table]
    if missing:
        raise ConfigError(f"{pyproject} [tool.coordkit]: missing key(s) {missing}")
    values = dict(table)
    for key in _PATH_KEYS:
        values[key] = (root / values[key]).resolve()
    for key in _OPTIONAL_PATH_KEYS:
        if key in values:
            values[key] = (root / values[key]).resolve()
    values["db_url"] = absolute_db_url(values["db_url"], root)
    values["calendar"] = (root / values.get("calendar", "graders/calendar.yml")).resolve()
    values["syllabus"] = (root / values.get("syllabus", "book/syllabus.yml")).resolve()
    if values["build_dir"].name != "_build":
        # jupyter-book 1.x always writes into <--path-output>/_build: any other name would be ignored
        raise ConfigError(f"{pyproject} [tool.coordkit]: build_dir = {table['build_dir']!r} must be a folder "
                          "named _build (jupyter-book writes there), e.g. build_dir = \"site/_build\"")
    if "register_url" in values:
        values["register_url"] = absolute_db_url(values["register_url"], root)
    if "certification" in values:
        from .rule import check_overrides

        check_overrides(values["certification"], where=str(pyproject))
        values["certification"] = dict(values["certification"])
    values["db_template"] = values["db_url"]
    values["db_url"] = values["db_url"].replace("{course}", values.get("course_id", "coordkit"))
    return Settings(root=root, **values)


def gradebook_url(settings: Settings, course_id: str | None = None) -> str:
    """The gradebook of one course, from the one setting `db_url`: a `{course}` in it is replaced by the
    course id (one database per course, e.g. postgresql://coordkit@127.0.0.1/gradebook_{course}); a
    SQLite URL without it means `gradebook.db` in each cohort's own course folder."""
    course_id = course_id or settings.course_id
    url = settings.db_template or settings.db_url
    if "{course}" in url:
        return url.replace("{course}", course_id)
    if course_id != settings.course_id and url.startswith("sqlite:"):
        return f"sqlite:///{course_folder(settings, course_id) / 'gradebook.db'}"
    return url


def course_folder(settings: Settings, course_id: str) -> Path:
    if course_id == settings.course_id:
        return settings.course_root
    return (settings.courses_dir or settings.root / "courses") / course_id


def for_course(settings: Settings, course_id: str | None) -> Settings:
    """The settings of the cohort course `course_id` (its folder, gradebook and reports); the item banks,
    rubrics, facts and register are the site's. None or the default course id: `settings` unchanged."""
    if not course_id or course_id == settings.course_id:
        return settings
    if not COURSE_ID.match(course_id):
        raise ConfigError(f"course id {course_id!r}: use a lower-case letter then 1-19 lower-case letters or "
                          "digits (it prefixes trainee ids and names a database), e.g. c2026a")
    folder = course_folder(settings, course_id)
    return replace(settings, course_id=course_id, course_root=folder, db_url=gradebook_url(settings, course_id),
                   reports_dir=settings.reports_dir / course_id, cohorts_dir=settings.cohorts_dir)


def nbgrader_db_url(course_root: str | Path, course_id: str, *, checkout: str | Path | None = None) -> str:
    """What a course's nbgrader_config.py sets as CourseDirectory.db_url, so that nbgrader run by hand,
    Formgrader and coordkit read the same setting: `db_url` in the checkout's pyproject.toml (the
    checkout given, else COORDKIT_ROOT, else found upwards from the course folder). When coordkit runs
    nbgrader it passes the URL it uses in COORDKIT_DB_URL. A course folder outside any checkout (a
    throwaway course) keeps nbgrader's own default, gradebook.db in the folder.

    A wrong or unreachable URL ends the process with one line naming the setting (nbgrader would
    otherwise print a long traceback, or Formgrader fall back to another gradebook)."""
    import os
    import sys

    passed = os.environ.get("COORDKIT_DB_URL")
    if passed:
        return passed
    where = checkout or os.environ.get("COORDKIT_ROOT")
    try:
        settings = load_settings(Path(where) if where else find_root(Path(course_root)))
    except ConfigError:
        if where:
            raise
        return f"sqlite:///{Path(course_root).resolve() / 'gradebook.db'}"
    url = gradebook_url(settings, course_id)
    from .database import check_database

    try:
        check_database(url, where=f"{settings.root / 'pyproject.toml'} [tool.coordkit]")
    except ConfigError as exc:
        print(f"coordkit: error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    return url
