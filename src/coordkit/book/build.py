"""Building the book, and what book pages import (facts for code cells)."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings, find_root, load_settings
from ..content.facts import FactRegistry, load_facts
from ..errors import ToolError


def page_facts(embedded: str | None = None) -> FactRegistry:
    """The facts registry, for a code cell in a book page. In the book, it is found from the page's
    folder upwards (the checkout's pyproject.toml names it). In a notebook exported for a trainee's
    JupyterLab (`coordkit book notebooks`), the page's facts are embedded in the notebook as the YAML
    text of facts.yml entries and passed here, so neither a checkout nor datasets/ is needed."""
    if embedded is None:
        return load_facts(load_settings(find_root()).facts)
    return facts_from_text(embedded, where="the facts cell at the top of this notebook")


def facts_from_text(text: str, *, where: str) -> FactRegistry:
    """A registry from the YAML text of facts.yml entries; errors name `where` and the entry."""
    import yaml

    from ..errors import FactsError
    from ..content.facts import _check_entry

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FactsError(f"{where}: not valid YAML ({exc}); export the notebook again") from None
    if not isinstance(data, dict) or not isinstance(data.get("facts"), list):
        raise FactsError(f"{where}: expected a 'facts:' list; export the notebook again")
    facts = {}
    for i, entry in enumerate(data["facts"]):
        fact = _check_entry(entry, i, Path(where))
        facts[fact.id] = fact
    return FactRegistry(path=Path(where), facts=facts)


_WEEKDAYS_JA = "月火水木金土日"
DEADLINE_FLAGS = {"last", "weekday", "noyear", "ja", "en"}


def format_day(day, *, lang: str, year: bool = True, weekday: bool = False) -> str:
    """A date as the edition writes it: 2027年1月4日（月） / Monday 4 January 2027."""
    if lang == "ja":
        text = (f"{day.year}年" if year else "") + f"{day.month}月{day.day}日"
        return text + (f"（{_WEEKDAYS_JA[day.weekday()]}）" if weekday else "")
    text = f"{day.day} {day:%B}" + (f" {day.year}" if year else "")
    return (f"{day:%A} " if weekday else "") + text


def deadline_text(registry: FactRegistry, spec: str, *, lang: str, where: str = "the page"):
    """The text of a `{deadline}` role: `<fact id> <event date YYYY-MM-DD> [last] [weekday] [noyear] [ja|en]`.
    The date is the fact's deadline for that event, counted by its own rule and moved off a closed day
    when the fact says so (`last`: the last day of the period, not moved); `ja`/`en` write it in that
    language whatever the edition (an easy-Japanese memo quoted in the English edition). Returns (fact, text);
    FactsError names the role and the fix."""
    import datetime as dt

    from ..errors import FactsError
    from ..content.facts import due_date, last_day

    parts = spec.split()
    if len(parts) < 2:
        raise FactsError(f"{where}: {{deadline}}`{spec}` needs a fact id and an event date, "
                         "e.g. {deadline}`residence.moving_days 2026-12-15`")
    flags = set(parts[2:])
    if flags - DEADLINE_FLAGS:
        raise FactsError(f"{where}: {{deadline}}`{spec}`: unknown option(s) {', '.join(sorted(flags - DEADLINE_FLAGS))}; "
                         f"use {', '.join(sorted(DEADLINE_FLAGS))}")
    fact = registry[parts[0]]
    if not fact.period:
        raise FactsError(f"{where}: {{deadline}}`{spec}`: fact {fact.id!r} is not a period; cite it with {{fact}}")
    try:
        event = dt.date.fromisoformat(parts[1])
    except ValueError:
        raise FactsError(f"{where}: {{deadline}}`{spec}`: {parts[1]!r} is not a date; write it as YYYY-MM-DD") from None
    day = last_day(fact, event) if "last" in flags else due_date(fact, event)
    lang = "ja" if "ja" in flags else "en" if "en" in flags else lang
    return fact, format_day(day, lang=lang, year="noyear" not in flags, weekday="weekday" in flags)


def _first_problem(text: str) -> str:
    """The first warning or error Sphinx reported, without colour codes."""
    import re

    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
    for marker in ("WARNING:", "ERROR:", "Error:", "Exception"):
        for line in plain.splitlines():
            if marker in line:
                return line.strip()
    lines = [l for l in plain.splitlines() if l.strip()]
    return lines[-1].strip() if lines else "unknown error"


@dataclass(frozen=True)
class BuildResult:
    html_dir: Path
    seconds: float
    executed: int           # pages (re-)executed in this build
    log: Path

    def to_dict(self) -> dict:
        return {"html": str(self.html_dir), "seconds": round(self.seconds, 1), "executed": self.executed,
                "log": str(self.log)}


def merged_config(root: Path, overlay: Path, target: Path) -> Path:
    """_config.yml with the edition's overrides (e.g. _config_ja.yml) merged over it, so that the
    book's configuration keeps one owner and an edition states only what differs."""
    import yaml

    def merge(base, extra):
        out = dict(base)
        for key, value in (extra or {}).items():
            out[key] = merge(out.get(key, {}), value) if isinstance(value, dict) and isinstance(
                out.get(key), dict) else value
        return out

    base = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    extra = yaml.safe_load(overlay.read_text(encoding="utf-8"))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(merge(base, extra), allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def _run_build(settings: Settings, args: list[str], log: Path) -> tuple[float, int]:
    from ..course import tool_env

    cmd = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(settings.root), *args,
           "--builder", "html", "--warningiserror", "--nitpick", "--keep-going"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=settings.root, env=tool_env(settings), capture_output=True, text=True)
    seconds = time.perf_counter() - start
    text = proc.stdout + proc.stderr
    with open(log, "a", encoding="utf-8") as handle:
        handle.write("$ " + " ".join(cmd) + "\n" + text)
    if proc.returncode != 0:
        raise ToolError(f"book build failed: {_first_problem(text)}; full log: {log}")
    return seconds, text.count("Executing:") + text.count("Executing notebook")


def build_book(*, settings: Settings, editions: tuple[str, ...] | None = None) -> BuildResult:
    """`jupyter-book build` with warnings as errors, nitpicky references and the execution cache.
    The English edition goes to _build/html/; when _config_ja.yml and _toc_ja.yml exist, the
    Japanese edition goes to _build/html/ja/. Raises ToolError with the first warning and the log."""
    import shutil

    from ..course import log_dir

    log = log_dir(settings) / "book_build.log"
    log.write_text("", encoding="utf-8")
    root = settings.root
    if editions is None:
        editions = ("en", "ja") if (root / "_config_ja.yml").is_file() and (root / "_toc_ja.yml").is_file() else ("en",)
    html = settings.build_dir / "html"
    seconds = executed = 0
    if "en" in editions:
        s, e = _run_build(settings, ["--path-output", str(settings.build_dir.parent)], log)
        seconds, executed = seconds + s, executed + e
    if "ja" in editions:
        config = merged_config(root, root / "_config_ja.yml", settings.build_dir / "ja" / "_config.yml")
        out = settings.build_dir / "ja"
        s, e = _run_build(settings, ["--config", str(config), "--toc", str(root / "_toc_ja.yml"),
                                     "--path-output", str(out)], log)
        seconds, executed = seconds + s, executed + e
        target = html / "ja"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(out / "_build" / "html", target)
    return BuildResult(html_dir=html, seconds=seconds, executed=executed, log=log)
