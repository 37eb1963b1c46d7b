"""The append-only guarantee on PostgreSQL: a trigger function that raises on any UPDATE or DELETE of
the history (certificate_events), any DELETE of a certificate, and TRUNCATE of either table, as the
SQLite triggers of 0001 do. Nothing changes on SQLite.

The triggers stop coordkit, an administrator's SQL client and any application role. The tables'
owner could drop them; run coordkit as a role that does not own the tables (see the administrator's
guide), and `coordkit register check` still detects any change made with the triggers gone.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

FUNCTION = "coordkit_register_append_only"
GUARDS = [("certificate_events", "UPDATE", "ROW"), ("certificate_events", "DELETE", "ROW"),
          ("certificates", "DELETE", "ROW"), ("certificate_events", "TRUNCATE", "STATEMENT"),
          ("certificates", "TRUNCATE", "STATEMENT")]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the register keeps its history: rows are never changed or deleted (% on %)',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$""")
    for table, action, level in GUARDS:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action.lower()} ON {table}")
        op.execute(f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                   f"FOR EACH {level} EXECUTE FUNCTION {FUNCTION}()")


def downgrade() -> None:
    raise NotImplementedError("the register is never downgraded: restore a backup instead")
