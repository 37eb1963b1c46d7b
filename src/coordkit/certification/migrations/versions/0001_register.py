"""The register as it was before migrations: certificates and their hash-chained, append-only
events; on SQLite, triggers that refuse changing or deleting the history and deleting a certificate.

A register made before migrations already has all of this: coordkit stamps it with this revision
(after adding the hash-chain columns if it predates them) and upgrades it from here.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

MESSAGE = "the register keeps its history: rows are never changed or deleted"
GUARDS = [("certificate_events", "UPDATE"), ("certificate_events", "DELETE"), ("certificates", "DELETE")]


def upgrade() -> None:
    op.create_table(
        "certificates",
        sa.Column("certificate_id", sa.String(32), primary_key=True),
        sa.Column("cohort", sa.String(100), nullable=False),
        sa.Column("trainee_id", sa.String(100), nullable=False),
        sa.Column("name_ja", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("affiliation", sa.String(300), nullable=False),
        sa.Column("prefecture", sa.String(10), nullable=False),
        sa.Column("specialist_fields", sa.Text, nullable=False),
        sa.Column("certified_on", sa.Date, nullable=False),
        sa.Column("expires_on", sa.Date, nullable=False),
        sa.Column("renewals", sa.Integer, nullable=False),
        sa.Column("verification_code", sa.String(12), nullable=False, unique=True),
        sa.Column("publish_name", sa.Boolean, nullable=False),
        sa.Column("publish_affiliation", sa.Boolean, nullable=False),
        sa.Column("publish_specialist_fields", sa.Boolean, nullable=False),
        sa.UniqueConstraint("cohort", "trainee_id", name="uq_certificates_cohort_trainee"),
    )
    op.create_table(
        "certificate_events",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("certificate_id", sa.String(32), sa.ForeignKey("certificates.certificate_id"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("effective_on", sa.Date, nullable=False),
        sa.Column("recorded_at", sa.DateTime, nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=True),
        sa.Column("state_hash", sa.String(64), nullable=True),
        sa.Column("hash", sa.String(64), nullable=True),
    )
    op.create_index("ix_certificate_events_certificate_id", "certificate_events", ["certificate_id"])
    if op.get_bind().dialect.name == "sqlite":
        for table, action in GUARDS:
            op.execute(f"CREATE TRIGGER IF NOT EXISTS {table}_no_{action.lower()} BEFORE {action} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END")


def downgrade() -> None:
    raise NotImplementedError("the register is never downgraded: restore a backup instead")
