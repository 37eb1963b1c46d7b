"""Alembic environment of the register: the connection coordkit passes (config.attributes), or the
URL given on alembic's command line (`-x url=...`) or as sqlalchemy.url."""

from alembic import context
from sqlalchemy import create_engine, pool

VERSION_TABLE = "coordkit_register_version"


def _run(connection) -> None:
    from coordkit.certification.schema import _schema

    context.configure(connection=connection, target_metadata=_schema()[0], version_table=VERSION_TABLE,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


config = context.config
connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("alembic: give the register's URL: alembic -c <alembic.ini> -x url=<URL> upgrade head")
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()
