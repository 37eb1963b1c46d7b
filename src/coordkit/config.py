"""Toolkit settings: `[tool.coordkit]` in pyproject.toml, read once into a frozen dataclass."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields, replace
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
    calendar: Path | None = None    # the course calendar: due dates and late penalty (graders/calendar.yml)

    def with_overrides(self, **changes) -> "Settings":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


_PATH_KEYS = ("facts", "course_root", "items_dir", "rubrics_dir", "evaluation_dir",
              "cohorts_dir", "reports_dir", "build_dir")


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
    known = {f.name for f in fields(Settings)} - {"root"}
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
    values["db_url"] = absolute_db_url(values["db_url"], root)
    values["calendar"] = (root / values.get("calendar", "graders/calendar.yml")).resolve()
    if "register_url" in values:
        values["register_url"] = absolute_db_url(values["register_url"], root)
    return Settings(root=root, **values)
