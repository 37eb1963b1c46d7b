"""The database behind the gradebook and the register: one setting (`db_url` / `register_url` in
pyproject.toml [tool.coordkit]), checked before use so that a wrong or unreachable URL is one line
that names the setting, not a driver's traceback.

Owns: the connection check and the URL's printable form (password hidden), and creating a cohort's
own PostgreSQL database. May import: coordkit's errors, SQLAlchemy."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import ConfigError

DRIVERS = {"postgresql": "psycopg[binary] (pinned in requirements.txt: run `make venv`)",
           "sqlite": "Python's sqlite3"}


def shown(url: str) -> str:
    """The URL with any password replaced by ***."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:                      # an unparsable URL has no password we could find
        return url


def _why(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    text = [line for line in text if line.strip() and not line.startswith("(Background")]
    why = text[0] if text else type(exc).__name__
    if "connection failed:" in why:
        why = why.split("connection failed:", 1)[1].strip()
    return why[:200]


def check_database(url: str, *, setting: str = "db_url", where: str = "pyproject.toml [tool.coordkit]",
                   timeout: int = 5) -> None:
    """Connect to `url` once (at most `timeout` seconds). Raises ConfigError in one line naming the
    setting, the URL (password hidden), what failed and the next step."""
    import sqlalchemy as sa
    from sqlalchemy import exc as sa_exc

    name = f"{setting} in {where}"
    try:
        parsed = sa.engine.make_url(url)
    except (sa_exc.ArgumentError, ValueError):
        raise ConfigError(f"{name} = {url!r} is not a database URL; write e.g. sqlite:///assignments/gradebook.db "
                          "or postgresql://coordkit@127.0.0.1:5432/gradebook_{course}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite" and parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).resolve().parent      # a file made on first use: never made here
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            raise ConfigError(f"{name} = {url!r}: the folder {folder} does not exist or is not writable; "
                              "create it or fix the URL")
        return
    args = {"connect_timeout": timeout} if backend == "postgresql" else {}
    try:
        engine = sa.create_engine(parsed, connect_args=args, poolclass=sa.pool.NullPool)
    except (sa_exc.NoSuchModuleError, ModuleNotFoundError, ImportError) as exc:
        need = DRIVERS.get(backend, f"the Python driver for {parsed.drivername}")
        raise ConfigError(f"{name} = {shown(url)!r}: no driver for {parsed.drivername} ({exc}); install {need}") from None
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa_exc.SQLAlchemyError as exc:
        hint = ("check that the server runs and the URL's host, port, user and database are right"
                if backend == "postgresql" else "check that the folder exists and is writable")
        raise ConfigError(f"{name} = {shown(url)!r}: cannot connect ({_why(exc)}); {hint}") from None
    finally:
        engine.dispose()


def create_database(url: str, *, setting: str = "db_url") -> bool:
    """Create the database of `url` if it does not exist (PostgreSQL: through the server's `postgres`
    database, as the URL's user, which needs CREATEDB). SQLite files are created on first use.
    Returns True if a database was created."""
    import sqlalchemy as sa
    from sqlalchemy import exc as sa_exc

    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return False
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT",
                             poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            found = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                 {"n": parsed.database}).first()
            if found:
                return False
            conn.execute(sa.text(f'CREATE DATABASE "{parsed.database}"'))
            return True
    except sa_exc.SQLAlchemyError as exc:
        raise ConfigError(f"{setting}: cannot create the database {parsed.database!r} at {shown(url)!r} "
                          f"({_why(exc)}); give the URL's user CREATEDB or create it with createdb") from None
    finally:
        admin.dispose()
