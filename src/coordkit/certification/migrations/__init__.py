"""Alembic migrations of the register's schema (coordkit.certification.register). Applied on opening the register
(`open_register(url)` runs `upgrade`), or by hand:

    alembic -c src/coordkit/certification/migrations/alembic.ini -x url=postgresql://user@host/coordkit_register upgrade head

The version is kept in the table `coordkit_register_version` (not alembic's default name, which
nbgrader's gradebook uses), so the register may share a database with a gradebook.
Revisions: 0001 the schema as it was before migrations (tables, SQLite guards); 0002 the append-only
guards on PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
VERSION_TABLE = "coordkit_register_version"
BASELINE = "0001"                    # the schema of a register made before migrations


@dataclass(frozen=True)
class Migration:
    """What opening the register did to its schema."""

    before: str | None               # the revision found (None: an empty database)
    after: str                       # the revision now (the head)
    stamped: bool = False            # a register from before migrations, stamped with BASELINE

    @property
    def changed(self) -> bool:
        return self.before != self.after


def alembic_config(url: str | None = None):
    """Alembic's configuration for the register's migrations (this folder)."""
    from alembic.config import Config

    cfg = Config(str(HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(HERE))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current(connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}).get_current_revision()


def migrate(engine, *, legacy: Callable[[], None] | None = None) -> Migration:
    """Bring the register's schema at `engine` to the head revision. A register made before
    migrations (its tables exist, no version) is first brought to the baseline by `legacy` (adding
    the hash-chain columns if it predates them), then stamped with the baseline, then upgraded."""
    from alembic import command
    from sqlalchemy import inspect

    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        before = current(conn)
    stamped = False
    if before is None and "certificate_events" in tables:
        if legacy is not None:
            legacy()
        with engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.stamp(cfg, BASELINE)
        before, stamped = BASELINE, True
    target = head()
    if before != target:
        with engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    return Migration(before=None if before is None else before, after=target, stamped=stamped)


def schema_summary(engine) -> dict:
    """The register's schema as plain data, to compare two databases: per table its columns (name,
    type, nullable), primary key, unique constraints, indexes and foreign keys, and the names of the
    triggers that guard it. The migrations' version table is left out."""
    from sqlalchemy import inspect, text

    out: dict = {}
    with engine.connect() as conn:
        insp = inspect(conn)
        for table in sorted(t for t in insp.get_table_names() if t != VERSION_TABLE):
            out[table] = {
                "columns": [(c["name"], str(c["type"]).split("(")[0].upper(), c["nullable"])
                            for c in insp.get_columns(table)],
                "primary_key": insp.get_pk_constraint(table)["constrained_columns"],
                "unique": sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(table)),
                "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                                  for i in insp.get_indexes(table)),
                "foreign_keys": sorted((tuple(f["constrained_columns"]), f["referred_table"])
                                       for f in insp.get_foreign_keys(table)),
            }
        if conn.dialect.name == "sqlite":
            rows = conn.execute(text("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'"))
        elif conn.dialect.name == "postgresql":
            rows = conn.execute(text("SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                                     "WHERE NOT t.tgisinternal"))
        else:
            rows = []
        for table, name in rows:
            if table in out:
                out[table].setdefault("triggers", []).append(name)
        for table in out.values():
            table["triggers"] = sorted(table.get("triggers", []))
    return out


def app_role_grants(role: str) -> list[str]:
    """The SQL (PostgreSQL) that lets `role` use the register without owning it: read, add
    certificates and events, update a certificate (renewal, amendment); no UPDATE or DELETE of the
    history, no DELETE of a certificate, and, not being the owner, no way to drop the triggers.
    Run it as the owner after `upgrade head`; then point coordkit's register_url at `role`."""
    import re

    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        from ...errors import ConfigError

        raise ConfigError(f"{role!r} is not a plain PostgreSQL role name (lower-case letters, digits, _)")
    return [f"GRANT USAGE ON SCHEMA public TO {role}",
            f"GRANT SELECT ON {VERSION_TABLE} TO {role}",
            f"GRANT SELECT, INSERT, UPDATE ON certificates TO {role}",
            f"GRANT SELECT, INSERT ON certificate_events TO {role}",
            f"GRANT USAGE ON SEQUENCE certificate_events_seq_seq TO {role}"]
