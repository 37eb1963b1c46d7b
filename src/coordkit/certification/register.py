"""The register of certified coordinators (認定者名簿), kept through SQLAlchemy: SQLite by default,
any SQLAlchemy URL by configuration (e.g. postgresql://user@host/coordkit).

Two tables:

- ``certificates``: one row per certificate, the current state (certificate id, cohort and trainee,
  name in Japanese and in Latin letters, affiliation, prefecture, specialist fields, date of
  certification, expiry, number of renewals, verification code, consent to publish).
  ``(cohort, trainee_id)`` and the verification code are unique, so nobody is registered twice.
- ``certificate_events``: the history, append-only. Every change to a certificate (certification,
  renewal, amendment) writes one event with the values before and after, in the same transaction
  as the change, so nothing is ever silently overwritten. On SQLite, triggers refuse any UPDATE or
  DELETE of the history and any DELETE of a certificate.

Tamper evidence: every event carries the SHA-256 hash of its own content (sequence number,
certificate, kind, dates, details, and the certificate's full record after the event) chained to
the previous event's hash. `Register.check()` (`coordkit register check`, and `coordkit verify`
before it answers) recomputes the chain and reports an event whose content was edited, an event
inserted or deleted (the next event no longer chains), a certificate row that differs from the
record its last event sealed (an UPDATE of the table), a certificate without events and events of a
missing certificate. The last hash (the head) is printed: kept elsewhere (a printout, an e-mail),
it also detects a register rewritten from scratch with a recomputed chain (`--head`).

The dates and codes are in coordkit.certification.codes, the stored records and tables in
coordkit.certification.schema, the published export in coordkit.certification.publish; their public
names are importable from here too (the old path coordkit.register is this module).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from ..content.vocab import PREFECTURES  # noqa: F401 - JIS X 0401 order
from .codes import (ALPHABET, CERTIFICATE_PREFIX, CODE_EXAMPLE, RegisterError, _check_char,  # noqa: F401
                    expiry_date, format_code, new_code, normalize_code)
from .publish import EXPORT_COLUMNS, PUBLISHABLE, RegisterExport, export_register, public_rows  # noqa: F401
from .schema import (Certificate, RegisterCheck, RegisterEvent, Verification, _digest, _event_hash,  # noqa: F401
                     _record, _schema, _sqlite_file, display_url, split_fields)

AMENDABLE = ("name_ja", "name_en", "affiliation", "prefecture", "specialist_fields",
             "publish_name", "publish_affiliation", "publish_specialist_fields")


class Register:
    """An open register. Use `open_register(url)`; close it (or use `with`) when done."""

    def __init__(self, url: str, *, create: bool = True):
        from sqlalchemy import create_engine, inspect
        from sqlalchemy.exc import ArgumentError, SQLAlchemyError

        self.url = url
        shown = display_url(url)
        try:
            path = _sqlite_file(url)
        except ArgumentError:
            raise RegisterError(f"{url!r} is not a SQLAlchemy database URL; write it like "
                                "sqlite:///records/register.db or postgresql://user@host/coordkit") from None
        if path is not None:
            if not create and not path.is_file():
                raise RegisterError(f"no register at {path}; run `coordkit certify` first, or pass "
                                    "--register-url with the register's database URL")
            if create:
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise RegisterError(f"cannot create the folder of the register {path} ({exc.strerror}); "
                                        "choose a writable --register-url") from None
        self._meta, self._certs, self._events = _schema()
        self.migrated = None                 # the Migration opening it applied (create=True)
        try:
            self.engine = create_engine(url)
            if create:
                from .migrations import migrate

                self.migrated = migrate(self.engine, legacy=self._add_chain_columns)
            else:
                missing = {"certificates", "certificate_events"} - set(inspect(self.engine).get_table_names())
                if missing:
                    raise RegisterError(f"the database {shown} holds no register (tables {sorted(missing)} "
                                        "missing); run `coordkit certify` first or check --register-url")
        except RegisterError:
            raise
        except (SQLAlchemyError, ImportError) as exc:
            detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            raise RegisterError(f"cannot open the register {shown} ({detail}); check the URL and that the "
                                "database is reachable") from None

    def close(self) -> None:
        self.engine.dispose()

    def _add_chain_columns(self) -> None:
        """A register made before the hash chain: add its columns and seal its history as it is."""
        from sqlalchemy import inspect, text

        columns = {c["name"] for c in inspect(self.engine).get_columns("certificate_events")}
        if {"prev_hash", "state_hash", "hash"} <= columns:
            return
        with self.engine.begin() as conn:
            for name in ("prev_hash", "state_hash", "hash"):
                if name not in columns:
                    conn.execute(text(f"ALTER TABLE certificate_events ADD COLUMN {name} VARCHAR(64)"))
        self._seal_unsealed()

    def _seal_unsealed(self) -> None:
        """Chain the events that have no hash yet (a register from before the chain), in order.
        Their certificate's record is taken as it stands now."""
        from sqlalchemy import select, text

        e = self._events.c
        with self.engine.begin() as conn:
            rows = conn.execute(select(self._events).order_by(e.seq)).fetchall()
            if all(r.hash for r in rows):
                return
            conn.execute(text("DROP TRIGGER IF EXISTS certificate_events_no_update"))
            prev = None
            last_of = {r.certificate_id: r.seq for r in rows}
            for r in rows:
                if not r.hash:
                    state = _digest(self._state(conn, r.certificate_id))
                    digest = _event_hash(r.seq, r.certificate_id, r.kind, r.effective_on, r.recorded_at,
                                         json.loads(r.details), prev, state)
                    conn.execute(self._events.update().where(e.seq == r.seq)
                                 .values(prev_hash=prev, state_hash=state, hash=digest))
                    prev = digest
                else:
                    prev = r.hash
            if conn.dialect.name == "sqlite":
                conn.execute(text(
                    "CREATE TRIGGER IF NOT EXISTS certificate_events_no_update BEFORE UPDATE ON certificate_events "
                    "BEGIN SELECT RAISE(ABORT, 'the register keeps its history: rows are never changed or "
                    "deleted'); END"))

    def _state(self, conn, certificate_id: str) -> dict | None:
        from sqlalchemy import select

        row = conn.execute(select(self._certs).where(self._certs.c.certificate_id == certificate_id)).first()
        return _record(row._mapping) if row is not None else None

    def check(self, *, head: str | None = None) -> "RegisterCheck":
        """Recompute the hash chain; report every edit, insertion and deletion it reveals."""
        from sqlalchemy import select

        e = self._events.c
        problems: list[str] = []
        with self.engine.connect() as conn:
            events = conn.execute(select(self._events).order_by(e.seq)).fetchall()
            certs = {r.certificate_id: _record(r._mapping) for r in conn.execute(select(self._certs)).fetchall()}
        last_event = {r.certificate_id: r.seq for r in events}
        prev = None
        for r in events:
            where = f"event {r.seq} ({r.kind} of {r.certificate_id})"
            if not r.hash:
                problems.append(f"{where} has no hash: it was inserted outside coordkit")
                prev = None
                continue
            if r.prev_hash != prev:
                problems.append(f"{where} does not follow the event before it: an event was inserted or "
                                "deleted before it")
            try:
                details = json.loads(r.details)
            except ValueError:
                details = r.details
            if _event_hash(r.seq, r.certificate_id, r.kind, r.effective_on, r.recorded_at, details, r.prev_hash,
                           r.state_hash) != r.hash:
                problems.append(f"{where} was edited after it was recorded")
            elif last_event[r.certificate_id] == r.seq and r.certificate_id in certs \
                    and _digest(certs[r.certificate_id]) != r.state_hash:
                problems.append(f"certificate {r.certificate_id} differs from the record its last event sealed: "
                                "the certificates table was edited outside coordkit")
            prev = r.hash
        for cert_id in sorted(set(certs) - set(last_event)):
            problems.append(f"certificate {cert_id} has no event: it was inserted outside coordkit")
        for cert_id in sorted(set(last_event) - set(certs)):
            problems.append(f"certificate {cert_id} has events but no longer exists: it was deleted")
        head_hash = events[-1].hash if events else None
        if head and head not in {r.hash for r in events}:
            problems.append(f"the head {head[:16]}… that was kept is not in the chain: the register was "
                            "rewritten, or its latest events deleted")
        return RegisterCheck(url=display_url(self.url), events=len(events), certificates=len(certs),
                             head=head_hash, problems=tuple(problems))

    def __enter__(self) -> "Register":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- reading --

    def _cert(self, row) -> Certificate:
        m = row._mapping
        return Certificate(
            certificate_id=m["certificate_id"], cohort=m["cohort"], trainee_id=m["trainee_id"],
            name_ja=m["name_ja"], name_en=m["name_en"], affiliation=m["affiliation"],
            prefecture=m["prefecture"], specialist_fields=split_fields(m["specialist_fields"]),
            certified_on=m["certified_on"], expires_on=m["expires_on"], renewals=m["renewals"],
            verification_code=m["verification_code"], publish_name=bool(m["publish_name"]),
            publish_affiliation=bool(m["publish_affiliation"]),
            publish_specialist_fields=bool(m["publish_specialist_fields"]))

    def certificates(self) -> list[Certificate]:
        from sqlalchemy import select

        with self.engine.connect() as conn:
            rows = conn.execute(select(self._certs).order_by(self._certs.c.certificate_id)).fetchall()
        return [self._cert(r) for r in rows]

    def find(self, cohort: str, trainee_id: str) -> Certificate | None:
        from sqlalchemy import select

        c = self._certs.c
        with self.engine.connect() as conn:
            row = conn.execute(select(self._certs).where(c.cohort == cohort, c.trainee_id == trainee_id)).first()
        return self._cert(row) if row else None

    def get(self, certificate_id: str) -> Certificate:
        from sqlalchemy import select

        with self.engine.connect() as conn:
            row = conn.execute(select(self._certs).where(self._certs.c.certificate_id == certificate_id)).first()
        if row is None:
            raise RegisterError(f"no certificate {certificate_id!r} in the register {display_url(self.url)}; "
                                "check the id (like SC-2025-0001)")
        return self._cert(row)

    def history(self, certificate_id: str) -> list[RegisterEvent]:
        from sqlalchemy import select

        self.get(certificate_id)
        e = self._events.c
        with self.engine.connect() as conn:
            rows = conn.execute(select(self._events).where(e.certificate_id == certificate_id)
                                .order_by(e.seq)).fetchall()
        return [RegisterEvent(seq=r.seq, certificate_id=r.certificate_id, kind=r.kind, effective_on=r.effective_on,
                              recorded_at=r.recorded_at, details=json.loads(r.details)) for r in rows]

    def verify(self, code: str, *, today: dt.date) -> Verification:
        """valid, expired or unknown. A malformed or mistyped code raises RegisterError."""
        from sqlalchemy import select

        normal = normalize_code(code)
        with self.engine.connect() as conn:
            row = conn.execute(select(self._certs).where(self._certs.c.verification_code == normal)).first()
        if row is None:
            return Verification(status="unknown", code=normal, today=today)
        cert = self._cert(row)
        return Verification(status=cert.status(today), code=normal, today=today, certificate=cert)

    def due_for_renewal(self, *, today: dt.date, within_days: int) -> list[Certificate]:
        """Certificates still valid on `today` that expire within `within_days` days, soonest first."""
        try:
            last = today + dt.timedelta(days=within_days)
        except OverflowError:
            last = dt.date.max
        due = [c for c in self.certificates() if today <= c.expires_on <= last]
        return sorted(due, key=lambda c: (c.expires_on, c.certificate_id))

    # -- writing (each change and its event in one transaction) --

    def _event(self, conn, certificate_id: str, kind: str, effective_on: dt.date, details: dict) -> None:
        """Append an event chained to the last one (in the caller's transaction, after the change)."""
        from sqlalchemy import func, select

        e = self._events.c
        recorded_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
        text = json.dumps(details, ensure_ascii=False, default=str, sort_keys=True)
        last = conn.execute(select(e.seq, e.hash).order_by(e.seq.desc()).limit(1)).first()
        seq = (last.seq if last else 0) + 1
        prev = last.hash if last else None
        if conn.dialect.name == "sqlite":
            seq = max(seq, (conn.execute(select(func.max(e.seq))).scalar() or 0) + 1)
        state = _digest(self._state(conn, certificate_id))
        digest = _event_hash(seq, certificate_id, kind, effective_on, recorded_at, json.loads(text), prev, state)
        conn.execute(self._events.insert().values(
            seq=seq, certificate_id=certificate_id, kind=kind, effective_on=effective_on, recorded_at=recorded_at,
            details=text, prev_hash=prev, state_hash=state, hash=digest))

    def add(self, *, cohort: str, trainee_id: str, name_ja: str, name_en: str, affiliation: str,
            prefecture: str, certified_on: dt.date, validity_years: int,
            specialist_fields: Iterable[str] | str = (), publish_name: bool = False,
            publish_affiliation: bool = False, publish_specialist_fields: bool = False,
            evidence: dict | None = None) -> Certificate:
        """Register a newly certified coordinator; refuses a second certificate for the same
        (cohort, trainee_id) and names the existing one."""
        from sqlalchemy import func, select
        from sqlalchemy.exc import IntegrityError

        where = f"cohort {cohort!r} trainee {trainee_id!r}"
        for key, value in (("name_ja", name_ja), ("name_en", name_en), ("affiliation", affiliation)):
            if not str(value or "").strip():
                raise RegisterError(f"{where}: {key} is empty; fill it in (people.csv) before registering")
        if prefecture not in PREFECTURES:
            raise RegisterError(f"{where}: {prefecture!r} is not a prefecture; write its full name, e.g. 東京都, 大阪府")
        existing = self.find(cohort, trainee_id)
        if existing is not None:
            raise RegisterError(f"{where} is already registered as {existing.certificate_id} "
                                f"(certified {existing.certified_on}); the register keeps one certificate per trainee")
        expires_on = expiry_date(certified_on, years=validity_years)
        prefix = f"{CERTIFICATE_PREFIX}-{certified_on.year}-"
        values = dict(cohort=cohort, trainee_id=trainee_id, name_ja=name_ja.strip(), name_en=name_en.strip(),
                      affiliation=affiliation.strip(), prefecture=prefecture,
                      specialist_fields=";".join(split_fields(specialist_fields)), certified_on=certified_on,
                      expires_on=expires_on, renewals=0, publish_name=bool(publish_name),
                      publish_affiliation=bool(publish_affiliation),
                      publish_specialist_fields=bool(publish_specialist_fields))
        for _attempt in range(5):     # retried only if a parallel run took the same number or code
            try:
                with self.engine.begin() as conn:
                    last = conn.execute(select(func.max(self._certs.c.certificate_id))
                                        .where(self._certs.c.certificate_id.like(prefix + "%"))).scalar()
                    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
                    cert_id = f"{prefix}{number:04d}"
                    code = new_code()
                    conn.execute(self._certs.insert().values(certificate_id=cert_id, verification_code=code,
                                                             **values))
                    self._event(conn, cert_id, "certified", certified_on,
                                {"record": {**values, "validity_years": validity_years},
                                 "evidence": evidence or {}})
                return self.get(cert_id)
            except IntegrityError:
                existing = self.find(cohort, trainee_id)
                if existing is not None:
                    raise RegisterError(f"{where} is already registered as {existing.certificate_id}") from None
        raise RegisterError(f"{where}: could not allocate a certificate id; run the command again")

    def renew(self, certificate_id: str, *, on: dt.date, validity_years: int,
              evidence: dict | None = None) -> Certificate:
        """Extend a certificate by `validity_years` from its current expiry. Refused once expired."""
        cert = self.get(certificate_id)
        if on > cert.expires_on:
            raise RegisterError(f"{certificate_id} expired on {cert.expires_on + dt.timedelta(days=1)} "
                                f"(valid until {cert.expires_on}); an expired certificate cannot be renewed, "
                                "the coordinator must be certified again")
        if on < cert.certified_on:
            raise RegisterError(f"{certificate_id}: the renewal date {on} is before the certification "
                                f"date {cert.certified_on}; check --date")
        new_expiry = expiry_date(cert.expires_on, years=validity_years)
        with self.engine.begin() as conn:
            conn.execute(self._certs.update().where(self._certs.c.certificate_id == certificate_id)
                         .values(expires_on=new_expiry, renewals=cert.renewals + 1))
            self._event(conn, certificate_id, "renewed", on,
                        {"expires_before": cert.expires_on, "expires_after": new_expiry,
                         "validity_years": validity_years, "renewal": cert.renewals + 1,
                         "evidence": evidence or {}})
        return self.get(certificate_id)

    def amend(self, certificate_id: str, *, on: dt.date, reason: str, **changes: Any) -> Certificate:
        """Change a coordinator's details (a new affiliation, a withdrawn consent, ...). The old and
        new values and the reason are kept in the history."""
        cert = self.get(certificate_id)
        unknown = sorted(set(changes) - set(AMENDABLE))
        if unknown:
            raise RegisterError(f"{certificate_id}: {', '.join(unknown)} cannot be amended; amendable: "
                                f"{', '.join(AMENDABLE)} (dates change only by renewal)")
        if not reason or not reason.strip():
            raise RegisterError(f"{certificate_id}: give the reason for the amendment; it is kept in the history")
        if "specialist_fields" in changes:
            changes["specialist_fields"] = split_fields(changes["specialist_fields"])
        if "prefecture" in changes and changes["prefecture"] not in PREFECTURES:
            raise RegisterError(f"{certificate_id}: {changes['prefecture']!r} is not a prefecture; "
                                "write its full name, e.g. 東京都")
        before = {k: getattr(cert, k) for k in changes if getattr(cert, k) != changes[k]}
        if not before:
            raise RegisterError(f"{certificate_id}: nothing to amend; the register already holds these values")
        after = {k: changes[k] for k in before}
        stored = {k: (";".join(v) if k == "specialist_fields" else v) for k, v in after.items()}
        with self.engine.begin() as conn:
            conn.execute(self._certs.update().where(self._certs.c.certificate_id == certificate_id).values(**stored))
            self._event(conn, certificate_id, "amended", on,
                        {"before": {k: (list(v) if isinstance(v, tuple) else v) for k, v in before.items()},
                         "after": {k: (list(v) if isinstance(v, tuple) else v) for k, v in after.items()},
                         "reason": reason.strip()})
        return self.get(certificate_id)


def open_register(url: str, *, create: bool = True) -> Register:
    """Open (and with `create`, make) the register at a SQLAlchemy URL. With create=False a missing
    register is an error instead of a new empty one."""
    return Register(url, create=create)


def upgrade_register(*, register_url: str):
    """Bring an existing register's schema to the latest migration (coordkit.certification.migrations); a register
    from before migrations is stamped first. Returns the Migration (revisions before and after)."""
    with open_register(register_url, create=False) as reg:
        from .migrations import migrate

        return migrate(reg.engine, legacy=reg._add_chain_columns)


def default_register_url(settings) -> str:
    """The register's URL: `register_url` from [tool.coordkit] when that key exists, else
    records/register.db in the checkout (git-ignored: it holds personal data)."""
    url = getattr(settings, "register_url", None)
    return url or f"sqlite:///{Path(settings.root) / 'records' / 'register.db'}"


# --- what the CLI calls --------------------------------------------------------------------------

def verify_code(code: str, *, register_url: str, today: dt.date | None = None) -> Verification:
    """Answer valid, expired or unknown for a verification code, with the dates; refuses to answer
    (RegisterError naming what was found) when the register fails its integrity check."""
    with open_register(register_url, create=False) as reg:
        checked = reg.check()
        if not checked.ok:
            raise RegisterError(f"the register {checked.url} fails its integrity check ({checked.problems[0]}"
                                f"{f'; and {len(checked.problems) - 1} more' if len(checked.problems) > 1 else ''}); "
                                "no answer is given: run `coordkit register check` and restore the register "
                                "from a backup")
        return reg.verify(code, today=today or dt.date.today())


def check_register(*, register_url: str, head: str | None = None) -> RegisterCheck:
    """Recompute the register's hash chain (see Register.check)."""
    with open_register(register_url, create=False) as reg:
        return reg.check(head=head)


def certificate_history(certificate_id: str, *, register_url: str) -> tuple[Certificate, list[RegisterEvent]]:
    """A certificate as it stands and every change made to it, oldest first."""
    with open_register(register_url, create=False) as reg:
        return reg.get(certificate_id), reg.history(certificate_id)


def amend_certificate(certificate_id: str, *, register_url: str, reason: str, on: dt.date | None = None,
                      **changes: Any) -> Certificate:
    """Register.amend on the register at `register_url` (see there)."""
    with open_register(register_url, create=False) as reg:
        return reg.amend(certificate_id, on=on or dt.date.today(), reason=reason, **changes)


@dataclass(frozen=True)
class RenewalsDue:
    today: dt.date
    within_days: int
    certificates: tuple[Certificate, ...]

    def to_frame(self):
        import pandas as pd

        rows = [{"certificate_id": c.certificate_id, "name_ja": c.name_ja, "name_en": c.name_en,
                 "affiliation": c.affiliation, "prefecture": c.prefecture, "expires_on": c.expires_on.isoformat(),
                 "days_left": (c.expires_on - self.today).days, "renewals": c.renewals}
                for c in self.certificates]
        return pd.DataFrame(rows, columns=["certificate_id", "name_ja", "name_en", "affiliation", "prefecture",
                                           "expires_on", "days_left", "renewals"])


def renewals_due(*, register_url: str, within_days: int, today: dt.date | None = None) -> RenewalsDue:
    """Who must renew within `within_days` days of `today`, soonest first."""
    if within_days < 0:
        raise RegisterError(f"--within must not be negative (got {within_days} days)")
    if within_days > 100 * 366:
        raise RegisterError(f"--within {within_days} days is past any certificate's expiry; give at most 100 "
                            "years, e.g. --within 1y")
    today = today or dt.date.today()
    with open_register(register_url, create=False) as reg:
        return RenewalsDue(today=today, within_days=within_days,
                           certificates=tuple(reg.due_for_renewal(today=today, within_days=within_days)))
