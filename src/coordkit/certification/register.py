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

Expiry: a validity of N years ends on the same calendar day N years after certification, counted
as the Civil Code counts periods by years (Arts. 140 and 143: the day of certification is not
counted, and when the last month lacks the corresponding day the period ends on that month's last
day). A certificate dated 29 February 2024 with 3 years' validity therefore runs to 28 February
2027. A renewal adds N years to the previous expiry, so renewing early loses no time.

Verification codes: 12 characters of Crockford's base32 (no I, L, O or U, so they cannot be
misread), shown as XXXX-XXXX-XXXX. Eleven are random (``secrets``, 55 bits) and the last is a
Luhn mod-32 check character, which catches every single mistyped character and most swapped
neighbours before the register is even asked. The code is stored in the register; verification
is a look-up. We did not use an HMAC of the certificate id: verification must read the register
anyway (to answer valid or expired with the dates), and a secret key would add a thing to keep,
rotate and lose without making forgery harder than guessing 55 random bits.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..errors import CoordkitError
from ..vocab import PREFECTURES  # noqa: F401 - JIS X 0401 order; the published export uses it

CERTIFICATE_PREFIX = "SC"          # SC-<year of certification>-<4-digit sequence>
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"   # Crockford base32
CODE_EXAMPLE = "7K3M-QX9A-2B46"
AMENDABLE = ("name_ja", "name_en", "affiliation", "prefecture", "specialist_fields",
             "publish_name", "publish_affiliation", "publish_specialist_fields")
PUBLISHABLE = {"publish_name": ("name_ja", "name_en"), "publish_affiliation": ("affiliation",),
               "publish_specialist_fields": ("specialist_fields",)}


class RegisterError(CoordkitError):
    """The register cannot be opened, or a change to it is refused (the message says why)."""


# --- dates and codes -----------------------------------------------------------------------------

def expiry_date(start: dt.date, *, years: int) -> dt.date:
    """The last day of a validity of `years` years from `start` (see the module docstring):
    the same calendar day `years` later, or the month's last day if that month lacks the day."""
    from ..banks import _add_months   # the calendar-month arithmetic the answer keys use

    if isinstance(years, bool) or not isinstance(years, int) or years <= 0:
        raise RegisterError(f"a validity period must be a positive whole number of years (got {years!r})")
    return _add_months(start, 12 * years)


def _check_char(payload: str) -> str:
    """Luhn mod N (N = 32) check character for `payload` (characters of ALPHABET)."""
    n, total, factor = len(ALPHABET), 0, 2
    for char in reversed(payload):
        addend = factor * ALPHABET.index(char)
        total += addend // n + addend % n
        factor = 1 if factor == 2 else 2
    return ALPHABET[(n - total % n) % n]


def new_code() -> str:
    """A fresh verification code in its normal form (12 characters, no hyphens)."""
    payload = "".join(secrets.choice(ALPHABET) for _ in range(11))
    return payload + _check_char(payload)


def format_code(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def normalize_code(text: str) -> str:
    """The code as typed -> its normal form. Spaces and hyphens are ignored, case does not matter,
    O is read as 0 and I or L as 1. Raises RegisterError for something that is not a code, or a code
    whose check character does not match (a mistyped character). Full-width letters and digits (as a
    Japanese input method types them) are read as their ASCII forms (NFKC)."""
    import unicodedata

    text = unicodedata.normalize("NFKC", str(text))
    raw = re.sub(r"[\s\-‐‑–—−－ー_]", "", text).upper().translate(str.maketrans("OIL", "011"))
    bad = sorted({c for c in raw if c not in ALPHABET})
    if len(raw) != 12 or bad:
        why = f"it contains {''.join(bad)!r}" if bad else f"it has {len(raw)} characters, not 12"
        raise RegisterError(f"{text!r} is not a verification code ({why}); a code has 12 letters and digits "
                            f"like {CODE_EXAMPLE}, as printed on the certificate")
    if _check_char(raw[:11]) != raw[11]:
        raise RegisterError(f"{format_code(raw)} is not a valid verification code: its check character does "
                            "not match, so a character is probably mistyped; compare it with the certificate")
    return raw


# --- records -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Certificate:
    certificate_id: str
    cohort: str
    trainee_id: str
    name_ja: str
    name_en: str
    affiliation: str
    prefecture: str
    specialist_fields: tuple[str, ...]
    certified_on: dt.date
    expires_on: dt.date
    renewals: int
    verification_code: str
    publish_name: bool = False
    publish_affiliation: bool = False
    publish_specialist_fields: bool = False

    @property
    def code(self) -> str:
        """The verification code as printed: XXXX-XXXX-XXXX."""
        return format_code(self.verification_code)

    def status(self, today: dt.date) -> str:
        return "valid" if today <= self.expires_on else "expired"

    def to_dict(self) -> dict:
        out = asdict(self)
        out["specialist_fields"] = ";".join(self.specialist_fields)
        out["certified_on"], out["expires_on"] = self.certified_on.isoformat(), self.expires_on.isoformat()
        return out


@dataclass(frozen=True)
class RegisterEvent:
    seq: int
    certificate_id: str
    kind: str                       # certified | renewed | amended
    effective_on: dt.date
    recorded_at: dt.datetime
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Verification:
    status: str                     # valid | expired | unknown
    code: str
    today: dt.date
    certificate: Certificate | None = None

    def describe(self) -> str:
        c = self.certificate
        if c is None:
            return (f"unknown: no certificate with verification code {format_code(self.code)} is in the "
                    "register: it was not issued here, or the code is forged")
        who = f"{c.certificate_id}, {c.name_ja} / {c.name_en}"
        renewed = f", renewed {c.renewals} time(s)" if c.renewals else ""
        if self.status == "valid":
            return f"valid: {who}; certified {c.certified_on}, valid until {c.expires_on}{renewed}"
        return (f"expired: {who}; certified {c.certified_on}, valid until {c.expires_on}{renewed}, "
                f"expired on {c.expires_on + dt.timedelta(days=1)}")


# --- the register --------------------------------------------------------------------------------

def split_fields(value: Iterable[str] | str | None) -> tuple[str, ...]:
    """Specialist fields as a tuple, from "労働;在留手続" (as stored and as in people.csv) or a list."""
    if value is None:
        return ()
    parts = value.split(";") if isinstance(value, str) else list(value)
    return tuple(p.strip() for p in parts if p and p.strip())


def display_url(url: str) -> str:
    """The URL for messages, with any password hidden."""
    try:
        from sqlalchemy.engine import make_url
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - only for messages
        return "(register URL)"


def _sqlite_file(url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _schema():
    from sqlalchemy import (Boolean, Column, Date, DateTime, ForeignKey, Integer, MetaData, String, Table, Text,
                            UniqueConstraint)

    meta = MetaData()
    certificates = Table(
        "certificates", meta,
        Column("certificate_id", String(32), primary_key=True),
        Column("cohort", String(100), nullable=False),
        Column("trainee_id", String(100), nullable=False),
        Column("name_ja", String(200), nullable=False),
        Column("name_en", String(200), nullable=False),
        Column("affiliation", String(300), nullable=False),
        Column("prefecture", String(10), nullable=False),
        Column("specialist_fields", Text, nullable=False, default=""),
        Column("certified_on", Date, nullable=False),
        Column("expires_on", Date, nullable=False),
        Column("renewals", Integer, nullable=False, default=0),
        Column("verification_code", String(12), nullable=False, unique=True),
        Column("publish_name", Boolean, nullable=False, default=False),
        Column("publish_affiliation", Boolean, nullable=False, default=False),
        Column("publish_specialist_fields", Boolean, nullable=False, default=False),
        UniqueConstraint("cohort", "trainee_id", name="uq_certificates_cohort_trainee"),
    )
    events = Table(
        "certificate_events", meta,
        Column("seq", Integer, primary_key=True, autoincrement=True),
        Column("certificate_id", String(32), ForeignKey("certificates.certificate_id"), nullable=False,
               index=True),
        Column("kind", String(20), nullable=False),
        Column("effective_on", Date, nullable=False),
        Column("recorded_at", DateTime, nullable=False),
        Column("details", Text, nullable=False),
        Column("prev_hash", String(64), nullable=True),
        Column("state_hash", String(64), nullable=True),
        Column("hash", String(64), nullable=True),
    )
    return meta, certificates, events


def _record(m) -> dict:
    """A certificate row as plain JSON values (what an event seals)."""
    return {k: (v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else bool(v) if k.startswith("publish_")
                else v) for k, v in dict(m).items()}


def _digest(record) -> str | None:
    import hashlib

    if record is None:
        return None
    return hashlib.sha256(json.dumps(record, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()


def _event_hash(seq, certificate_id, kind, effective_on, recorded_at, details, prev_hash, state) -> str:
    import hashlib

    def iso(value):
        return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else str(value)

    payload = json.dumps({"seq": seq, "certificate_id": certificate_id, "kind": kind,
                          "effective_on": iso(effective_on), "recorded_at": iso(recorded_at), "details": details,
                          "prev": prev_hash, "state": state}, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class RegisterCheck:
    url: str
    events: int
    certificates: int
    head: str | None
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def describe(self) -> list[str]:
        lines = [f"{self.url}: {self.certificates} certificate(s), {self.events} event(s); "
                 + ("the hash chain is intact" if self.ok else f"{len(self.problems)} problem(s) found:")]
        lines += [f"  {p}" for p in self.problems]
        if self.head:
            lines.append(f"head: {self.head}  (keep it: `coordkit register check --head` compares with it)")
        return lines


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
    """Bring an existing register's schema to the latest migration (coordkit.migrations); a register
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


EXPORT_COLUMNS = ["prefecture", "affiliation", "name_ja", "name_en", "specialist_fields"]


@dataclass(frozen=True)
class RegisterExport:
    today: dt.date
    rows: tuple[dict, ...]
    withheld: int                   # valid certificates of coordinators who agreed to publish nothing
    path: Path | None = None

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(list(self.rows), columns=EXPORT_COLUMNS)


def public_rows(certificates: Iterable[Certificate], *, today: dt.date) -> tuple[list[dict], int]:
    """The publishable register: valid certificates only, by prefecture (JIS order) and affiliation,
    each field present only if the coordinator agreed to publish it (blank otherwise). A coordinator
    who agreed to nothing is left out; identical rows are merged."""
    rows, withheld = [], 0
    for c in certificates:
        if c.status(today) != "valid":
            continue
        row = {"prefecture": c.prefecture, "affiliation": "", "name_ja": "", "name_en": "", "specialist_fields": ""}
        shown = False
        for flag, keys in PUBLISHABLE.items():
            if getattr(c, flag):
                shown = True
                for key in keys:
                    value = getattr(c, key)
                    row[key] = ";".join(value) if isinstance(value, tuple) else value
        if shown:
            rows.append(row)
        else:
            withheld += 1
    order = {p: i for i, p in enumerate(PREFECTURES)}
    unique = {tuple(r.values()): r for r in rows}
    ordered = sorted(unique.values(), key=lambda r: (order.get(r["prefecture"], 99), r["affiliation"],
                                                      r["name_ja"], r["specialist_fields"]))
    return ordered, withheld


def export_register(*, register_url: str, out: Path | str | None = None,
                    today: dt.date | None = None) -> RegisterExport:
    """The register for publishing (affiliations by prefecture), carrying only what each coordinator
    agreed to publish; written as UTF-8 CSV with a byte-order mark (opens correctly in Excel) when
    `out` is given."""
    today = today or dt.date.today()
    with open_register(register_url, create=False) as reg:
        rows, withheld = public_rows(reg.certificates(), today=today)
    result = RegisterExport(today=today, rows=tuple(rows), withheld=withheld, path=Path(out) if out else None)
    if out is not None:
        out = Path(out)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            from ..course.export import escape_formulas

            escape_formulas(result.to_frame()).to_csv(out, index=False, encoding="utf-8-sig", lineterminator="\n")
        except OSError as exc:
            raise RegisterError(f"cannot write {out} ({exc.strerror}); pass a writable --out") from None
    return result
