"""What the register stores: a certificate, an event of its history, the answer to a verification
and to an integrity check; the two SQLAlchemy tables (``certificates``, ``certificate_events``) that
coordkit.certification.register reads and writes and the migrations create; and the hashes that
chain the events (see coordkit.certification.register for the tamper evidence they give)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable

from .codes import format_code


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
