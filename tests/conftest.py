"""Shared fixtures. Paths are passed explicitly; nothing changes the working directory."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def settings():
    from coordkit.config import load_settings

    return load_settings(ROOT)


@pytest.fixture(scope="session")
def facts(settings):
    from coordkit.content.facts import load_facts

    return load_facts(settings.facts)


@pytest.fixture(scope="session")
def tool_path_env():
    """Environment with this interpreter's bin first on PATH (as `make test` sets it)."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.setdefault("MPLBACKEND", "Agg")
    return env


# --- `make test-fast` (pytest -m "not slow") runs no kernels -------------------------------------------
# Everything that starts a kernel, nbgrader's converters, the book build, a browser or PostgreSQL is marked
# slow: tests/notebooks and tests/hub as whole folders, the evaluator notebooks nbval collects from
# graders/evaluation, and single tests with @pytest.mark.slow. In a run without the slow tests, starting a
# Jupyter kernel fails the test that did it, in this process (jupyter_client's KernelManager) and in any
# process it starts (the only python3 kernel they can find exits at once), so a forgotten marker shows.

SLOW_FOLDERS = ("tests/notebooks", "tests/hub")
FAST_RUN_ENV = "COORDKIT_TEST_FAST"
KERNEL_REFUSED = ("coordkit test-fast: this test starts a Jupyter kernel; mark it @pytest.mark.slow "
                  "(or move it to tests/notebooks)")


class KernelStartRefused(RuntimeError):
    """A test started a Jupyter kernel in a run that excludes the slow tests."""


def is_fast_run(config) -> bool:
    import re

    markexpr = config.getoption("markexpr", "") or ""
    return bool(re.search(r"\bnot\s+slow\b", markexpr)) or os.environ.get(FAST_RUN_ENV) == "1"


@pytest.hookimpl(tryfirst=True)          # before -m deselects: the markers added here count
def pytest_collection_modifyitems(config, items):
    for item in items:
        path = Path(str(item.path)).resolve()
        rel = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.as_posix()
        if path.suffix == ".ipynb" or rel.startswith(SLOW_FOLDERS):      # nbval runs each notebook in a kernel
            item.add_marker(pytest.mark.slow)


def _refuse(*args, **kwargs):
    raise KernelStartRefused(KERNEL_REFUSED)


async def _refuse_async(*args, **kwargs):
    raise KernelStartRefused(KERNEL_REFUSED)


def pytest_configure(config):
    if not is_fast_run(config):
        return
    import json
    import tempfile

    from jupyter_client.manager import AsyncKernelManager, KernelManager

    KernelManager.start_kernel = _refuse
    KernelManager._async_start_kernel = _refuse_async          # what start_kernel runs in jupyter_client 8
    AsyncKernelManager.start_kernel = _refuse_async
    # child processes (coordkit, nbgrader, jupyter-book run by a test) find this python3 kernel first
    spec = Path(tempfile.mkdtemp(prefix="coordkit-fast-")) / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-c", f"import sys; sys.exit({KERNEL_REFUSED!r})", "{connection_file}"],
        "display_name": "refused in test-fast", "language": "python"}), encoding="utf-8")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(spec.parents[1]), os.environ.get("JUPYTER_PATH")]))
    os.environ[FAST_RUN_ENV] = "1"
