"""The marking tables beside nbgrader's in the gradebook database, their engine, and the settings
marking reads (course id, margin).

`coordkit_allocation` says which marker has which answer (slot 1: first marker, slot 2: blind second
marker); `coordkit_mark` holds every mark ever given (append-only: nothing is overwritten)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import sqlalchemy as sa

from ..errors import CoordkitError

MARGIN = 1.0
ROLES = ("first", "second", "moderator")
_meta = sa.MetaData()
allocation_table = sa.Table(
    "coordkit_allocation", _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("course_id", sa.String(128), nullable=False),
    sa.Column("answer_id", sa.String(32), nullable=False),
    sa.Column("assignment", sa.String(128), nullable=False),
    sa.Column("student", sa.String(128), nullable=False),
    sa.Column("notebook", sa.String(128), nullable=False),
    sa.Column("grade_id", sa.String(128), nullable=False),
    sa.Column("slot", sa.Integer, nullable=False),             # 1: first marker, 2: blind second marker
    sa.Column("marker", sa.String(128), nullable=False),
    sa.Column("allocated_at", sa.String(32), nullable=False),
    sa.UniqueConstraint("course_id", "answer_id", "slot", name="uq_coordkit_allocation_slot"),
)
mark_table = sa.Table(
    "coordkit_mark", _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("course_id", sa.String(128), nullable=False),
    sa.Column("answer_id", sa.String(32), nullable=False, index=True),
    sa.Column("marker", sa.String(128), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("levels", sa.Text, nullable=False),              # JSON {criterion id: points}
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("comment", sa.Text, nullable=False, default=""),
    sa.Column("reason", sa.Text, nullable=False, default=""),  # moderator's reason
    sa.Column("answer_sha", sa.String(64), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),        # app | workbook | api
    sa.Column("created_at", sa.String(32), nullable=False),
)


class MarkingError(CoordkitError):
    """A marking step that cannot be done as asked (the message says why and what to do)."""


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")


@lru_cache(maxsize=8)
def _engine(url: str) -> sa.Engine:
    kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
    engine = sa.create_engine(url, **kwargs)
    _meta.create_all(engine, checkfirst=True)
    return engine


def engine(settings) -> sa.Engine:
    return _engine(settings.db_url)


def _course(settings) -> str:
    from ..course import course_id

    return course_id(settings)


def margin(settings) -> float:
    return float(getattr(settings, "marking_margin", MARGIN))
