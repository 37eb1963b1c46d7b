"""The register on the real PostgreSQL (tests/hub/conftest.py starts it): its schema comes from the
migrations (the same as `alembic upgrade head` on an empty database gives), it is append-only there
too (UPDATE or DELETE of the history, DELETE of a certificate, TRUNCATE: refused, whoever sends the
SQL), `coordkit register check` passes, and a register made on PostgreSQL before migrations (no
version, no triggers) is stamped and guarded when it is opened."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from coordkit.database import create_database
from coordkit.certification.migrations import HERE, head, schema_summary
from coordkit.certification.register import check_register, open_register
from coordkit.certification.schema import _schema

pytestmark = pytest.mark.slow

D = dt.date


def person(trainee_id):
    return dict(cohort="fy2025", trainee_id=trainee_id, name_ja="佐藤 花子（仮名）", name_en="SATO Hanako (pseudonym)",
                affiliation="A市 多文化共生課（架空）", prefecture="東京都", specialist_fields="労働;在留手続",
                certified_on=D(2025, 3, 28), validity_years=3)


def _engine(url):
    from sqlalchemy import create_engine, pool

    return create_engine(url, poolclass=pool.NullPool)


def _database(postgres, name):
    url = postgres.url(name)
    assert create_database(url)
    return url


@pytest.fixture(scope="module")
def register(postgres):
    url = _database(postgres, "register_main")
    with open_register(url) as reg:
        assert reg.migrated.before is None and reg.migrated.after == head()
        first = reg.add(**person("tr001"))
        second = reg.add(**person("tr002"))
        reg.renew(first.certificate_id, on=D(2027, 3, 1), validity_years=3)          # UPDATE certificates: allowed
        reg.amend(second.certificate_id, on=D(2025, 6, 1), reason="異動", affiliation="B市（架空）")
    checked = check_register(register_url=url)
    assert checked.ok and checked.events == 4
    return {"url": url, "head": checked.head, "first": first}


@pytest.mark.parametrize("statement", [
    "UPDATE certificate_events SET kind = 'renewed'",
    "UPDATE certificate_events SET details = '{}' WHERE seq = 1",
    "DELETE FROM certificate_events WHERE kind = 'renewed'",
    "DELETE FROM certificates WHERE trainee_id = 'tr002'",
    "TRUNCATE certificate_events",
    "TRUNCATE certificates CASCADE",
])
@pytest.mark.parametrize("who", ["application role", "superuser"])
def test_raw_sql_cannot_change_or_delete_the_history(postgres, register, statement, who):
    import psycopg

    if who == "superuser":
        with pytest.raises(AssertionError, match="keeps its history"):
            postgres.psql(statement, database="register_main")
    else:
        with psycopg.connect(postgres.url("register_main")) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="keeps its history"):
                conn.execute(statement)
    assert check_register(register_url=register["url"], head=register["head"]).ok


def test_register_check_on_the_command_line_passes(register, capsys):
    from coordkit import cli

    assert cli.main(["register", "check", "--register-url", register["url"]]) == 0
    assert "the hash chain is intact" in capsys.readouterr().out


def test_alembic_upgrade_head_on_an_empty_database_gives_the_same_schema(postgres, register):
    by_hand = _database(postgres, "register_by_hand")
    alembic = Path(sys.executable).parent / "alembic"
    proc = subprocess.run([str(alembic), "-c", str(HERE / "alembic.ini"), "-x", f"url={by_hand}", "upgrade", "head"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    ours, theirs = schema_summary(_engine(register["url"])), schema_summary(_engine(by_hand))
    assert ours == theirs
    assert ours["certificate_events"]["triggers"] == ["certificate_events_no_delete", "certificate_events_no_truncate",
                                                      "certificate_events_no_update"]
    assert ours["certificates"]["triggers"] == ["certificates_no_delete", "certificates_no_truncate"]


def test_a_postgresql_register_from_before_migrations_is_stamped_and_guarded(postgres):
    import psycopg

    url = _database(postgres, "register_legacy")
    engine = _engine(url)
    _schema()[0].create_all(engine)            # how coordkit made it before migrations: no version, no trigger
    engine.dispose()
    with open_register(url) as reg:
        assert reg.migrated.stamped and (reg.migrated.before, reg.migrated.after) == ("0001", head())
        reg.add(**person("tr001"))
    with psycopg.connect(postgres.url("register_legacy")) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="keeps its history"):
            conn.execute("DELETE FROM certificate_events")
    assert check_register(register_url=url).ok


def test_an_application_role_that_does_not_own_the_register_uses_it_but_cannot_unguard_it(postgres, register):
    import psycopg

    from coordkit.certification.migrations import app_role_grants

    postgres.psql(f"CREATE ROLE coordkit_app LOGIN PASSWORD '{postgres.password}'")
    postgres.psql(";".join(app_role_grants("coordkit_app")), database="register_main")
    url = postgres.url("register_main", user="coordkit_app")
    with open_register(url) as reg:                              # at the head: opening needs no DDL
        assert not reg.migrated.changed
        cert = reg.add(**person("tr003"))
        reg.renew(cert.certificate_id, on=D(2028, 1, 10), validity_years=3)
    assert check_register(register_url=url).ok
    with psycopg.connect(postgres.url("register_main", user="coordkit_app")) as conn:
        for statement in ("DROP TRIGGER certificate_events_no_update ON certificate_events",
                          "ALTER TABLE certificate_events DISABLE TRIGGER ALL",
                          "DELETE FROM certificate_events"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
            conn.rollback()
