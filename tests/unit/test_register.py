"""The register of certified coordinators: expiry arithmetic, verification codes, no duplicates,
history kept, renewals, and the export for publishing."""

import datetime as dt

import pandas as pd
import pytest

from coordkit.certification.register import (ALPHABET, PREFECTURES, RegisterError, expiry_date, export_register,
                                             format_code, new_code, normalize_code, open_register, renewals_due,
                                             verify_code)

D = dt.date


@pytest.fixture
def url(tmp_path):
    return f"sqlite:///{tmp_path / 'register.db'}"


def person(trainee_id="tr001", **changes):
    base = dict(cohort="fy2025", trainee_id=trainee_id, name_ja="佐藤 花子（仮名）", name_en="SATO Hanako (pseudonym)",
                affiliation="A市 多文化共生課（架空）", prefecture="東京都", specialist_fields="労働;在留手続",
                certified_on=D(2025, 3, 28), validity_years=3)
    base.update(changes)
    return base


# --- expiry arithmetic ----------------------------------------------------------------------------

@pytest.mark.parametrize("start, years, end", [
    (D(2025, 3, 28), 3, D(2028, 3, 28)),      # the same calendar day
    (D(2024, 2, 29), 3, D(2027, 2, 28)),      # 29 February: the month's last day
    (D(2024, 2, 29), 4, D(2028, 2, 29)),      # ... unless the last year is a leap year too
    (D(2023, 2, 28), 1, D(2024, 2, 28)),      # a leap year does not move the end to the 29th
    (D(2025, 12, 31), 2, D(2027, 12, 31)),
])
def test_expiry_is_the_same_day_or_the_months_last_day(start, years, end):
    assert expiry_date(start, years=years) == end


@pytest.mark.parametrize("years", [0, -3, 1.5, True, "3"])
def test_expiry_refuses_a_period_that_is_not_a_positive_whole_number(years):
    with pytest.raises(RegisterError, match="positive whole number"):
        expiry_date(D(2025, 1, 1), years=years)


# --- verification codes -------------------------------------------------------------------------

def test_new_codes_are_well_formed_and_different():
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert normalize_code(format_code(code)) == code
        assert len(format_code(code)) == 14 and format_code(code).count("-") == 2


def test_codes_are_read_as_people_type_them():
    code = new_code()
    typed = " " + format_code(code).lower().replace("-", " - ") + " "
    assert normalize_code(typed) == code
    zero_one = code.replace("0", "O").replace("1", "l")
    assert normalize_code(zero_one) == code


def test_every_single_mistyped_character_is_caught():
    code = new_code()
    for i in range(len(code)):
        for char in ALPHABET:
            if char != code[i]:
                with pytest.raises(RegisterError, match="mistyped"):
                    normalize_code(code[:i] + char + code[i + 1:])


@pytest.mark.parametrize("text, why", [("ABC", "3 characters"), ("", "0 characters"),
                                       ("7K3M-QX9A-2B4U", "'U'"), ("7K3M-QX9A-2B4!", "'!'")])
def test_something_that_is_not_a_code_is_refused_with_an_example(text, why):
    with pytest.raises(RegisterError, match="is not a verification code") as err:
        normalize_code(text)
    assert why in str(err.value) and "like " in str(err.value)


# --- registering ----------------------------------------------------------------------------------

def test_certificates_get_sequential_ids_per_year_and_their_expiry(url):
    with open_register(url) as reg:
        a = reg.add(**person("tr001"))
        b = reg.add(**person("tr002"))
        c = reg.add(**person("tr003", certified_on=D(2026, 3, 27)))
    assert (a.certificate_id, b.certificate_id, c.certificate_id) == ("SC-2025-0001", "SC-2025-0002", "SC-2026-0001")
    assert a.expires_on == D(2028, 3, 28) and a.renewals == 0
    assert a.specialist_fields == ("労働", "在留手続")
    assert a.verification_code != b.verification_code


def test_a_trainee_is_never_registered_twice(url):
    with open_register(url) as reg:
        first = reg.add(**person())
        with pytest.raises(RegisterError, match=f"already registered as {first.certificate_id}"):
            reg.add(**person(name_ja="別の 名前（仮名）", certified_on=D(2025, 4, 1)))
        assert len(reg.certificates()) == 1
        assert reg.get(first.certificate_id).name_ja == "佐藤 花子（仮名）"   # not overwritten
        other_cohort = reg.add(**person(cohort="fy2026"))                   # ids repeat between cohorts
    assert other_cohort.certificate_id != first.certificate_id


@pytest.mark.parametrize("changes, message", [
    ({"prefecture": "東京"}, "not a prefecture"),
    ({"name_ja": "  "}, "name_ja is empty"),
    ({"affiliation": ""}, "affiliation is empty"),
])
def test_bad_details_are_refused_before_anything_is_written(url, changes, message):
    with open_register(url) as reg:
        with pytest.raises(RegisterError, match=message):
            reg.add(**person(**changes))
        assert reg.certificates() == []


def test_the_register_works_with_any_sqlalchemy_url(tmp_path):
    with open_register(f"sqlite+pysqlite:///{tmp_path / 'other.db'}") as reg:
        reg.add(**person())
        assert len(reg.certificates()) == 1


def test_a_missing_register_or_a_bad_url_is_a_one_line_error(tmp_path):
    with pytest.raises(RegisterError, match="no register at .*nothing.db.*coordkit certify"):
        open_register(f"sqlite:///{tmp_path / 'nothing.db'}", create=False)
    assert not (tmp_path / "nothing.db").exists()
    with pytest.raises(RegisterError, match="not a SQLAlchemy database URL"):
        open_register("register.db")
    with pytest.raises(RegisterError, match="cannot open the register"):
        open_register("nosuchdialect://host/db")


# --- verification ---------------------------------------------------------------------------------

def test_verify_answers_valid_expired_and_unknown_with_the_dates(url):
    with open_register(url) as reg:
        cert = reg.add(**person())
    last_day = verify_code(cert.code, register_url=url, today=D(2028, 3, 28))
    assert last_day.status == "valid"
    assert "certified 2025-03-28" in last_day.describe() and "valid until 2028-03-28" in last_day.describe()
    after = verify_code(cert.verification_code.lower(), register_url=url, today=D(2028, 3, 29))
    assert after.status == "expired" and "expired on 2028-03-29" in after.describe()
    forged_payload = "".join(ALPHABET[(ALPHABET.index(c) + 1) % 32] for c in cert.verification_code[:11])
    from coordkit.certification.codes import _check_char
    forged = verify_code(forged_payload + _check_char(forged_payload), register_url=url, today=D(2026, 1, 1))
    assert forged.status == "unknown" and forged.certificate is None
    assert "forged" in forged.describe()
    with pytest.raises(RegisterError, match="mistyped"):
        verify_code(cert.verification_code[:11] + ("0" if cert.verification_code[11] != "0" else "1"),
                    register_url=url)


# --- renewal, amendment and history ---------------------------------------------------------------

def test_renewal_extends_from_the_old_expiry_and_keeps_the_history(url):
    with open_register(url) as reg:
        cert = reg.add(**person(certified_on=D(2024, 2, 29)))
        assert cert.expires_on == D(2027, 2, 28)
        renewed = reg.renew(cert.certificate_id, on=D(2026, 12, 1), validity_years=3)
        assert renewed.expires_on == D(2030, 2, 28) and renewed.renewals == 1
        assert renewed.verification_code == cert.verification_code
        kinds = [(e.kind, e.effective_on) for e in reg.history(cert.certificate_id)]
        assert kinds == [("certified", D(2024, 2, 29)), ("renewed", D(2026, 12, 1))]
        event = reg.history(cert.certificate_id)[1]
        assert event.details["expires_before"] == "2027-02-28" and event.details["expires_after"] == "2030-02-28"


def test_an_expired_certificate_cannot_be_renewed(url):
    with open_register(url) as reg:
        cert = reg.add(**person())
        with pytest.raises(RegisterError, match="expired on 2028-03-29.*certified again"):
            reg.renew(cert.certificate_id, on=D(2028, 3, 29), validity_years=3)
        assert reg.get(cert.certificate_id).expires_on == D(2028, 3, 28)
        with pytest.raises(RegisterError, match="no certificate 'SC-1999-0001'"):
            reg.renew("SC-1999-0001", on=D(2026, 1, 1), validity_years=3)


def test_amendments_keep_old_and_new_values_and_the_reason(url):
    with open_register(url) as reg:
        cert = reg.add(**person(publish_name=True))
        amended = reg.amend(cert.certificate_id, on=D(2025, 6, 1), reason="本人から同意撤回の申出",
                            publish_name=False, affiliation="B市 国際交流課（架空）")
        assert amended.publish_name is False and amended.affiliation == "B市 国際交流課（架空）"
        event = reg.history(cert.certificate_id)[-1]
        assert event.kind == "amended" and event.details["reason"] == "本人から同意撤回の申出"
        assert event.details["before"] == {"publish_name": True, "affiliation": "A市 多文化共生課（架空）"}
        with pytest.raises(RegisterError, match="expires_on cannot be amended"):
            reg.amend(cert.certificate_id, on=D(2025, 6, 2), reason="x", expires_on=D(2040, 1, 1))
        with pytest.raises(RegisterError, match="give the reason"):
            reg.amend(cert.certificate_id, on=D(2025, 6, 2), reason=" ", affiliation="C")
        with pytest.raises(RegisterError, match="nothing to amend"):
            reg.amend(cert.certificate_id, on=D(2025, 6, 2), reason="x", publish_name=False)


def test_the_history_cannot_be_changed_or_deleted_in_the_database(url):
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError

    with open_register(url) as reg:
        cert = reg.add(**person())
        for sql in ("UPDATE certificate_events SET kind = 'renewed'", "DELETE FROM certificate_events",
                    "DELETE FROM certificates"):
            with pytest.raises(DatabaseError, match="history"):
                with reg.engine.begin() as conn:
                    conn.execute(text(sql))
        assert [e.kind for e in reg.history(cert.certificate_id)] == ["certified"]


# --- renewals due and the export for publishing --------------------------------------------------

def test_renewals_due_lists_who_expires_within_the_window_soonest_first(url):
    with open_register(url) as reg:
        late = reg.add(**person("tr001", certified_on=D(2025, 3, 28)))
        soon = reg.add(**person("tr002", certified_on=D(2025, 2, 1)))
        reg.add(**person("tr003", certified_on=D(2024, 1, 10)))          # expired 2027-01-11
        reg.add(**person("tr004", certified_on=D(2026, 3, 28)))          # far off
    due = renewals_due(register_url=url, within_days=90, today=D(2028, 1, 15))
    assert [c.certificate_id for c in due.certificates] == [soon.certificate_id, late.certificate_id]
    assert list(due.to_frame()["days_left"]) == [17, 73]
    with pytest.raises(RegisterError, match="must not be negative"):
        renewals_due(register_url=url, within_days=-1)


def test_export_carries_only_what_each_coordinator_agreed_to_publish(url, tmp_path):
    with open_register(url) as reg:
        reg.add(**person("tr001", prefecture="沖縄県", publish_affiliation=True))
        reg.add(**person("tr002", prefecture="北海道", publish_name=True, publish_specialist_fields=True))
        reg.add(**person("tr003", prefecture="東京都", affiliation="秘密の課（架空）"))        # agreed to nothing
        reg.add(**person("tr004", prefecture="東京都", publish_affiliation=True, certified_on=D(2020, 1, 6)))
    out = tmp_path / "public" / "register.csv"
    result = export_register(register_url=url, out=out, today=D(2026, 1, 1))
    frame = pd.read_csv(out, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")                    # opens correctly in Excel
    assert list(frame["prefecture"]) == ["北海道", "沖縄県"]                  # JIS order; expired tr004 left out
    hokkaido, okinawa = frame.to_dict("records")
    assert hokkaido["name_ja"] == "佐藤 花子（仮名）" and hokkaido["affiliation"] == ""
    assert hokkaido["specialist_fields"] == "労働;在留手続"
    assert okinawa["affiliation"] == "A市 多文化共生課（架空）" and okinawa["name_ja"] == okinawa["name_en"] == ""
    assert result.withheld == 1
    assert "秘密の課" not in out.read_text(encoding="utf-8-sig")
    assert set(frame.columns) == {"prefecture", "affiliation", "name_ja", "name_en", "specialist_fields"}


def test_the_prefecture_list_is_the_47_in_jis_order():
    assert len(PREFECTURES) == len(set(PREFECTURES)) == 47
    assert PREFECTURES[0] == "北海道" and PREFECTURES[12] == "東京都" and PREFECTURES[-1] == "沖縄県"


def test_full_width_codes_typed_with_a_japanese_input_method_are_read():
    code = new_code()
    wide = "ー".join("".join(chr(ord(c) + 0xFEE0) for c in part) for part in format_code(code).lower().split("-"))
    assert normalize_code(wide) == code
    assert normalize_code("　" + format_code(code).replace("-", "－") + "　") == code


# --- tamper evidence: the hash chain --------------------------------------------------------------

def _sql(url, *statements):
    import sqlite3

    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        for statement in statements:
            db.execute(statement)


@pytest.fixture
def chained(url):
    from coordkit.certification.register import check_register

    with open_register(url) as reg:
        first = reg.add(**person())
        second = reg.add(**person("tr002"))
        reg.renew(first.certificate_id, on=D(2027, 3, 1), validity_years=3)
        reg.amend(second.certificate_id, on=D(2025, 6, 1), reason="異動", affiliation="B市（架空）")
    result = check_register(register_url=url)
    assert result.ok and result.events == 4 and result.head
    return {"url": url, "first": first, "second": second, "head": result.head}


@pytest.mark.parametrize("statements, problem", [
    (["UPDATE certificates SET expires_on = '2099-12-31' WHERE trainee_id = 'tr001'"],
     "differs from the record its last event sealed"),
    (["DROP TRIGGER certificate_events_no_update",
      "UPDATE certificate_events SET details = replace(details, '異動', '本人希望') WHERE kind = 'amended'"],
     "was edited after it was recorded"),
    (["INSERT INTO certificates (certificate_id, cohort, trainee_id, name_ja, name_en, affiliation, prefecture, "
      "specialist_fields, certified_on, expires_on, renewals, verification_code, publish_name, publish_affiliation, "
      "publish_specialist_fields) VALUES ('SC-2025-0099', 'fy2025', 'tr099', 'x', 'x', 'x', '東京都', '', "
      "'2025-03-28', '2099-03-28', 0, 'ABCDEFGHJKMN', 0, 0, 0)"], "SC-2025-0099 has no event"),
    (["INSERT INTO certificate_events (certificate_id, kind, effective_on, recorded_at, details) VALUES "
      "('SC-2025-0001', 'renewed', '2025-04-01', '2025-04-01 00:00:00', '{}')"], "has no hash"),
    (["DROP TRIGGER certificate_events_no_delete", "DELETE FROM certificate_events WHERE kind = 'renewed'"],
     "an event was inserted or deleted before it"),
    (["DROP TRIGGER certificates_no_delete", "DROP TRIGGER certificate_events_no_delete",
      "DELETE FROM certificate_events WHERE certificate_id = 'SC-2025-0002'",
      "DELETE FROM certificates WHERE certificate_id = 'SC-2025-0002'"], "before it"),
])
def test_any_edit_insertion_or_deletion_is_reported(chained, statements, problem):
    from coordkit.certification.register import check_register

    _sql(chained["url"], *statements)
    result = check_register(register_url=chained["url"])
    assert not result.ok and any(problem in p for p in result.problems), result.problems
    with pytest.raises(RegisterError, match="fails its integrity check"):
        verify_code(chained["first"].code, register_url=chained["url"], today=D(2025, 4, 1))


def test_a_rewritten_tail_is_caught_by_the_head_kept_elsewhere(chained):
    from coordkit.certification.register import check_register

    _sql(chained["url"], "DROP TRIGGER certificate_events_no_delete",
         "DELETE FROM certificate_events WHERE seq = (SELECT max(seq) FROM certificate_events)",
         "DROP TRIGGER certificates_no_delete", "DELETE FROM certificates WHERE certificate_id = 'SC-2025-0002'")
    assert not check_register(register_url=chained["url"], head=chained["head"]).ok


def test_register_check_on_the_command_line(chained, capsys):
    from coordkit import cli

    assert cli.main(["register", "check", "--register-url", chained["url"]]) == 0
    assert "the hash chain is intact" in capsys.readouterr().out
    _sql(chained["url"], "UPDATE certificates SET renewals = 5")
    assert cli.main(["register", "check", "--register-url", chained["url"]]) == 4
    out = capsys.readouterr().out
    assert "SC-2025-0001" in out and "certificates table was edited" in out


# --- the schema: migrations (alembic) -----------------------------------------------------------

def _engine(url):
    from sqlalchemy import create_engine

    return create_engine(url)


def _legacy_register(url):
    """A register as coordkit made it before migrations: create_all and the SQLite triggers, no version."""
    from sqlalchemy import text

    from coordkit.certification.schema import _schema

    engine = _engine(url)
    _schema()[0].create_all(engine)
    with engine.begin() as conn:
        for table, action in [("certificate_events", "UPDATE"), ("certificate_events", "DELETE"),
                              ("certificates", "DELETE")]:
            conn.execute(text(f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                              "BEGIN SELECT RAISE(ABORT, 'the register keeps its history'); END"))
    engine.dispose()


def test_a_new_register_is_at_the_latest_migration_and_matches_the_model(url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from coordkit.certification.migrations import head
    from coordkit.certification.schema import _schema

    with open_register(url) as reg:
        assert reg.migrated.before is None and reg.migrated.after == head() == "0002"
    engine = _engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": "coordkit_register_version"})
        assert compare_metadata(context, _schema()[0]) == []
        version = conn.exec_driver_sql("SELECT version_num FROM coordkit_register_version").scalar()
    engine.dispose()
    assert version == head()
    with open_register(url) as reg:                       # opening again changes nothing
        assert not reg.migrated.changed and not reg.migrated.stamped


def test_alembic_upgrade_head_on_an_empty_database_gives_the_schema_coordkit_always_made(tmp_path, url):
    import subprocess
    import sys
    from pathlib import Path

    from coordkit.certification.migrations import HERE, schema_summary

    by_hand = f"sqlite:///{tmp_path / 'by_hand.db'}"
    alembic = Path(sys.executable).parent / "alembic"
    proc = subprocess.run([str(alembic), "-c", str(HERE / "alembic.ini"), "-x", f"url={by_hand}", "upgrade", "head"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    legacy = f"sqlite:///{tmp_path / 'legacy.db'}"
    _legacy_register(legacy)
    with open_register(url):
        pass
    summaries = [schema_summary(_engine(u)) for u in (by_hand, legacy, url)]
    assert summaries[0] == summaries[1] == summaries[2]
    assert summaries[0]["certificate_events"]["triggers"] == ["certificate_events_no_delete",
                                                              "certificate_events_no_update"]


def test_a_register_from_before_migrations_is_stamped_and_keeps_its_history(tmp_path):
    from coordkit.certification.register import check_register

    url = f"sqlite:///{tmp_path / 'old.db'}"
    _legacy_register(url)
    engine = _engine(url)
    with engine.begin() as conn:                          # an old register, with an old certificate
        conn.exec_driver_sql("ALTER TABLE certificate_events DROP COLUMN hash")   # from before the chain too
    engine.dispose()
    with open_register(url) as reg:
        assert reg.migrated.stamped and reg.migrated.before == "0001" and reg.migrated.after == "0002"
        cert = reg.add(**person())
    result = check_register(register_url=url)
    assert result.ok and result.events == 1
    with open_register(url) as reg:
        assert reg.get(cert.certificate_id).name_ja == person()["name_ja"] and not reg.migrated.changed


@pytest.mark.parametrize("statement", [
    "UPDATE certificate_events SET kind = 'renewed'",
    "DELETE FROM certificate_events",
    "DELETE FROM certificates WHERE trainee_id = 'tr001'",
])
def test_raw_sql_cannot_change_or_delete_the_history(chained, statement):
    import sqlite3

    from coordkit.certification.register import check_register

    with pytest.raises(sqlite3.IntegrityError, match="keeps its history"):
        _sql(chained["url"], statement)
    assert check_register(register_url=chained["url"], head=chained["head"]).ok


def test_a_role_name_that_is_not_plain_is_refused_before_any_sql():
    from coordkit.errors import ConfigError
    from coordkit.certification.migrations import app_role_grants

    assert "GRANT SELECT, INSERT ON certificate_events TO coordkit_app" in app_role_grants("coordkit_app")
    with pytest.raises(ConfigError, match="not a plain PostgreSQL role name"):
        app_role_grants("app; DROP TABLE certificates")
