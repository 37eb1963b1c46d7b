"""The `postgres` fixture: a private PostgreSQL server per test module (see pgserver.py)."""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

import pytest
from pgserver import PG_BIN, start_postgres


@pytest.fixture(scope="module")
def postgres():
    if os.geteuid() != 0:
        pytest.skip("starts PostgreSQL as the postgres account: run as root (CI does)")
    if not PG_BIN:
        pytest.skip("needs Debian's postgresql (make hub-deps)")
    base = Path("/tmp") / f"coordkit-pg-{secrets.token_hex(4)}"
    base.mkdir(mode=0o755)
    pg = None
    try:
        pg = start_postgres(base)
        yield pg
    finally:
        if pg is not None:
            pg.stop()
        shutil.rmtree(base, ignore_errors=True)
