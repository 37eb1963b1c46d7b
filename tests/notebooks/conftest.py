"""Fixtures of the slow tests (every test here is marked slow by tests/conftest.py)."""

import pytest


@pytest.fixture(scope="session")
def built_book(settings, tmp_path_factory):
    """The real book, both editions, built once per run into a temporary folder, never into the
    checkout's _build/ (the page execution cache, `execute.cache` in _config.yml, is still reused)."""
    from coordkit.book import build_book

    return build_book(settings=settings.with_overrides(build_dir=tmp_path_factory.mktemp("book") / "_build"))


@pytest.fixture(scope="module")
def chromium():
    """Headless Chromium (the system's, through Playwright), one per test module."""
    import shutil

    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        yield b
        b.close()
