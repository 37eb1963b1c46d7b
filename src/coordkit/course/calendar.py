"""The course calendar (graders/calendar.yml): due dates per assignment and cohort, and the late
penalty. It is the one owner of due dates: `apply_calendar` writes them into nbgrader's gradebook
(Assignment.duedate), where nbgrader's autograde compares each submission's timestamp with them and
asks the late-penalty plug-in (`CalendarLatePenalty`, configured from the same file in
assignments/nbgrader_config.py by `configure_late_penalty`) how many points to take off.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Enum, Float

from ..errors import ConfigError

METHODS = ("none", "zero", "per_day")
_TOP_KEYS = {"timezone", "late_penalty", "cohorts"}
_PENALTY_KEYS = {"method", "points_per_day", "max_fraction", "grace_minutes"}


@dataclass(frozen=True)
class LatePenalty:
    method: str = "none"
    points_per_day: float = 0.0
    max_fraction: float = 1.0
    grace_minutes: float = 0.0

    def penalty(self, score: float, seconds_late: float) -> float:
        late = seconds_late - self.grace_minutes * 60
        if late <= 0 or self.method == "none":
            return 0.0
        if self.method == "zero":
            return float(score)
        days = math.ceil(late / 86400)
        return min(self.points_per_day * days, self.max_fraction * float(score))


@dataclass(frozen=True)
class Calendar:
    path: Path
    timezone: str
    late_penalty: LatePenalty
    cohorts: dict[str, dict[str, dt.datetime]] = field(default_factory=dict)   # aware datetimes

    def due_dates(self, cohort: str) -> dict[str, dt.datetime]:
        """assignment -> due date (aware) for a cohort: its own entries over `default`."""
        if cohort not in self.cohorts and "default" not in self.cohorts:
            raise ConfigError(f"{self.path}: no cohort {cohort!r} and no `default` under cohorts:; "
                              f"add the cohort's due dates (cohorts there: {', '.join(self.cohorts)})")
        return {**self.cohorts.get("default", {}), **self.cohorts.get(cohort, {})}

    def nbgrader_due_dates(self, cohort: str) -> dict[str, dt.datetime]:
        """The same, as nbgrader stores them: naive UTC."""
        return {name: when.astimezone(dt.timezone.utc).replace(tzinfo=None)
                for name, when in self.due_dates(cohort).items()}


def _number(value, where: str, *, low: float = 0.0, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < low or (high is not None and value > high):
        raise ConfigError(f"{where} must be a number from {low:g}" + (f" to {high:g}" if high is not None else "")
                          + f" (got {value!r})")
    return float(value)


def load_calendar(path: Path) -> Calendar:
    """Read and check the calendar; a ConfigError names the file, the key and what is expected."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"no course calendar at {path}; copy graders/calendar.yml from the coordkit "
                          "repository") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML ({exc}); fix the file") from None
    if not isinstance(data, dict) or set(data) - _TOP_KEYS or "cohorts" not in data:
        raise ConfigError(f"{path}: expected the keys {sorted(_TOP_KEYS)} (cohorts: required); "
                          f"got {sorted(data) if isinstance(data, dict) else type(data).__name__}")
    zone_name = data.get("timezone", "Asia/Tokyo")
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ConfigError(f"{path}: timezone {zone_name!r} is not a time zone name (e.g. Asia/Tokyo)") from None
    raw = data.get("late_penalty") or {}
    if not isinstance(raw, dict) or set(raw) - _PENALTY_KEYS:
        raise ConfigError(f"{path}: late_penalty takes the keys {sorted(_PENALTY_KEYS)}")
    method = raw.get("method", "none")
    if method not in METHODS:
        raise ConfigError(f"{path}: late_penalty.method must be one of {', '.join(METHODS)} (got {method!r})")
    penalty = LatePenalty(method=method,
                          points_per_day=_number(raw.get("points_per_day", 0), f"{path}: late_penalty.points_per_day"),
                          max_fraction=_number(raw.get("max_fraction", 1), f"{path}: late_penalty.max_fraction", high=1),
                          grace_minutes=_number(raw.get("grace_minutes", 0), f"{path}: late_penalty.grace_minutes"))
    if method == "per_day" and not penalty.points_per_day:
        raise ConfigError(f"{path}: late_penalty.method per_day needs points_per_day above 0")
    cohorts: dict[str, dict[str, dt.datetime]] = {}
    if not isinstance(data["cohorts"], dict) or not data["cohorts"]:
        raise ConfigError(f"{path}: cohorts: must map cohort names to {{assignment: 'YYYY-MM-DD HH:MM'}}")
    for cohort, entries in data["cohorts"].items():
        if not isinstance(entries, dict):
            raise ConfigError(f"{path}: cohorts.{cohort} must map assignment ids to 'YYYY-MM-DD HH:MM'")
        cohorts[str(cohort)] = {}
        for assignment, when in entries.items():
            where = f"{path}: cohorts.{cohort}.{assignment}"
            if isinstance(when, dt.datetime):
                stamp = when
            else:
                try:
                    stamp = dt.datetime.strptime(str(when).strip(), "%Y-%m-%d %H:%M")
                except ValueError:
                    raise ConfigError(f"{where}: {when!r} is not a date and time as YYYY-MM-DD HH:MM") from None
            if stamp.tzinfo is None:
                stamp = stamp.replace(tzinfo=zone)
            cohorts[str(cohort)][str(assignment)] = stamp
    return Calendar(path=path, timezone=zone_name, late_penalty=penalty, cohorts=cohorts)


@dataclass
class CalendarResult:
    cohort: str
    set: dict[str, dt.datetime] = field(default_factory=dict)      # assignment -> duedate (naive UTC)
    missing: list[str] = field(default_factory=list)               # in the gradebook, not in the calendar


def apply_calendar(*, settings, cohort: str | None = None, assignments: list[str] | None = None) -> CalendarResult:
    """Write the cohort's due dates into the gradebook (Assignment.duedate; the assignment is created
    if it is not there yet). `assignments` limits it to those ids."""
    from nbgrader.api import Gradebook

    from .nbgrader import course_id

    cohort = cohort or settings.default_cohort
    dates = load_calendar(settings.calendar).nbgrader_due_dates(cohort)
    result = CalendarResult(cohort=cohort)
    with Gradebook(settings.db_url, course_id(settings)) as gb:
        names = assignments if assignments is not None else sorted({a.name for a in gb.assignments} | set(dates))
        for name in names:
            if name in dates:
                gb.update_or_create_assignment(name, duedate=dates[name])
                result.set[name] = dates[name]
            else:
                result.missing.append(name)
    return result


class CalendarLatePenalty(LateSubmissionPlugin):
    """nbgrader late-submission plug-in: the penalty rule of graders/calendar.yml, per notebook."""

    penalty_method = Enum(METHODS, default_value="none", help="none, zero or per_day").tag(config=True)
    points_per_day = Float(0.0, help="points off per started day late (per_day)").tag(config=True)
    max_fraction = Float(1.0, help="the penalty never exceeds this fraction of the score").tag(config=True)
    grace_minutes = Float(0.0, help="minutes after the deadline that do not count as late").tag(config=True)

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float:
        rule = LatePenalty(self.penalty_method, self.points_per_day, self.max_fraction, self.grace_minutes)
        penalty = rule.penalty(score or 0.0, total_seconds_late)
        self.log.info("Late penalty for %s: %.2f points (%.0f s late, rule %s)", student_id, penalty,
                      total_seconds_late, rule)
        return penalty


def configure_late_penalty(c, calendar_path) -> None:
    """In nbgrader_config.py: use CalendarLatePenalty with the rule from the course calendar."""
    if not Path(calendar_path).is_file():        # a course folder without the calendar: nbgrader's default
        return
    rule = load_calendar(Path(calendar_path)).late_penalty
    c.AssignLatePenalties.plugin_class = CalendarLatePenalty
    c.CalendarLatePenalty.penalty_method = rule.method
    c.CalendarLatePenalty.points_per_day = rule.points_per_day
    c.CalendarLatePenalty.max_fraction = rule.max_fraction
    c.CalendarLatePenalty.grace_minutes = rule.grace_minutes
