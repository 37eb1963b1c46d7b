"""`pip install .` gives a coordkit that runs: a fresh virtual environment, the package with its
declared dependencies only, `coordkit --help` and one real command."""

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_the_package_installs_with_its_declared_dependencies_and_runs(tmp_path, root):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    # the declared ranges must admit the pinned set: install the pins as constraints (fast: pip's cache);
    # a constraint names no extras, so psycopg[binary]==x becomes psycopg==x
    import re

    pins = (root / "requirements.txt").read_text(encoding="utf-8")
    constraints = tmp_path / "constraints.txt"
    constraints.write_text(re.sub(r"^([A-Za-z0-9_.-]+)\[[^\]]*\]", r"\1", pins, flags=re.M), encoding="utf-8")
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                              "-c", str(constraints), str(root)],
                             capture_output=True, text=True, env=env, timeout=900)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    exe = env_dir / "bin" / "coordkit"
    help_ = subprocess.run([str(exe), "--help"], capture_output=True, text=True, env=env, timeout=120)
    assert help_.returncode == 0 and "mark" in help_.stdout and "grade" in help_.stdout
    check = subprocess.run([str(exe), "--root", str(root), "facts", "check"], capture_output=True, text=True,
                           env=env, timeout=300, cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert "facts, all with a source" in check.stdout
    # the installed package is the one that ran, not the checkout's source tree
    where = subprocess.run([str(python), "-c", "import coordkit, sys; print(coordkit.__file__)"],
                           capture_output=True, text=True, env=env, cwd=tmp_path)
    assert str(env_dir) in where.stdout, where.stdout
