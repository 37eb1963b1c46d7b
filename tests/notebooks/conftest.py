"""Fixtures of the slow tests (every test here is marked slow by tests/conftest.py)."""

import pytest


@pytest.fixture(scope="session")
def built_book(settings, tmp_path_factory):
    """The real book, both editions, built once per run into a temporary folder, never into the
    checkout's _build/ (the page execution cache, `execute.cache` in _config.yml, is still reused)."""
    from coordkit.book import build_book

    return build_book(settings=settings.with_overrides(build_dir=tmp_path_factory.mktemp("book") / "_build"))
