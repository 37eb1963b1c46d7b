"""A private PostgreSQL server for the tests in tests/hub (conftest.py's `postgres` fixture, and
test_hub.py's site): Debian's server (`make hub-deps`), run as
the unprivileged `postgres` account, on a free port of 127.0.0.1, its data and socket in a temporary
folder; a LOGIN CREATEDB role `coordkit` with a random password for the application. Stopped and
removed afterwards."""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

PG_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))


def _run(cmd, **kw):
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise AssertionError(f"{cmd} -> {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return proc


@dataclass
class Postgres:
    base: Path
    port: int
    password: str
    bin: Path

    def url(self, database: str, *, user: str = "coordkit") -> str:
        return f"postgresql://{user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, *, database: str = "postgres"):
        """Run SQL as the superuser (over the private socket, peer authentication)."""
        return _run(["runuser", "-u", "postgres", "--", str(self.bin / "psql"), "-h", str(self.base / "sock"),
                     "-p", str(self.port), "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-Atc", sql])

    def stop(self) -> None:
        if (self.base / "data" / "postmaster.pid").exists():
            subprocess.run(["runuser", "-u", "postgres", "--", str(self.bin / "pg_ctl"), "-D",
                            str(self.base / "data"), "-m", "fast", "-w", "stop"], capture_output=True)


def start_postgres(base: Path) -> Postgres:
    """initdb and start a server in `base` (a new folder the postgres account may enter)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pg = Postgres(base=base, port=port, password=secrets.token_hex(12), bin=PG_BIN[-1].parent)
    for name in ("data", "sock"):
        (base / name).mkdir()
        shutil.chown(base / name, "postgres", "postgres")
    as_pg = ["runuser", "-u", "postgres", "--"]
    _run([*as_pg, str(pg.bin / "initdb"), "-D", str(base / "data"), "-U", "postgres", "--auth-local=peer",
          "--auth-host=scram-sha-256", "-E", "UTF8", "--no-instructions"])
    _run([*as_pg, str(pg.bin / "pg_ctl"), "-D", str(base / "data"), "-l", str(base / "data" / "log"), "-w", "-o",
          f"-p {port} -c listen_addresses=127.0.0.1 -k {base / 'sock'}", "start"])
    pg.psql(f"CREATE ROLE coordkit LOGIN CREATEDB PASSWORD '{pg.password}'")
    return pg
