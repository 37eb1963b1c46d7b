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
    from coordkit.facts import load_facts

    return load_facts(settings.facts)


@pytest.fixture(scope="session")
def tool_path_env():
    """Environment with this interpreter's bin first on PATH (as `make test` sets it)."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.setdefault("MPLBACKEND", "Agg")
    return env
