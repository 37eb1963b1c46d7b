"""What every command group shares: the settings from the common options, argument types, checks
of the gradebook address. No command lives here."""

from __future__ import annotations

import argparse
from pathlib import Path


def _settings(args):
    from ..config import for_course, load_settings

    settings = for_course(load_settings(Path(args.root) if args.root else None), getattr(args, "course_id", None))
    overrides = {}
    if getattr(args, "db_url", None):
        overrides["db_url"] = check_db_url(args.db_url)
    if getattr(args, "reports", None):
        overrides["reports_dir"] = Path(args.reports).resolve()
    return settings.with_overrides(**overrides)


def check_db_url(url: str) -> str:
    """A --db-url that SQLAlchemy can use, or ConfigError naming it and the fix (no traceback)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    from ..errors import ConfigError

    try:
        dialect = make_url(url).get_dialect()
        getattr(dialect, "import_dbapi", getattr(dialect, "dbapi", lambda: None))()
    except ArgumentError:
        raise ConfigError(f"--db-url {url!r} is not a database URL; write it like sqlite:///gradebook.db "
                          "or postgresql://user@host/coordkit") from None
    except (NoSuchModuleError, ImportError) as exc:
        raise ConfigError(f"--db-url {url!r}: its database driver is not installed ({exc}); install the "
                          "driver (e.g. pip install psycopg) or use a sqlite:/// URL") from None
    return url


def _date_arg(text: str, *, option: str):
    import datetime as dt

    from ..errors import ConfigError

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{option} {text!r} is not a date in the calendar; write it as YYYY-MM-DD") from None
def _check_gradebook(settings) -> None:
    from ..database import check_database

    check_database(settings.db_url, where=f"{settings.root / 'pyproject.toml'} [tool.coordkit]"
                   + (f" (course {settings.course_id})" if settings.course_id != "coordkit" else ""))


def _banks(settings, ids=None):
    from ..banks import load_banks
    from ..facts import load_facts

    return load_banks(settings.items_dir, load_facts(settings.facts), ids or None, rubrics_dir=settings.rubrics_dir)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} is not positive; a cohort needs at least 1 trainee")
    return value
