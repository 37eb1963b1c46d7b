"""The real Jupyter Book build, as `coordkit book build` runs it (warnings are errors)."""

import re

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(built_book):
    return built_book


def test_book_builds_with_warnings_as_errors(built):
    assert (built.html_dir / "index.html").is_file()
    assert (built.html_dir / "book" / "modules" / "residence_card.html").is_file()


def test_facts_render_with_their_values_and_sources(built, facts):
    html = (built.html_dir / "book" / "modules" / "residence_card.html").read_text(encoding="utf-8")
    fact = facts["residence.affiliation_notice_days"]
    assert f'href="{fact.source}"' in html
    assert fact.display("en") in html
    assert fact.status("en") in html            # what was really checked, never an unread 'verified' date


def test_self_check_is_static_with_folded_answers(built):
    html = (built.html_dir / "book" / "modules" / "residence_card.html").read_text(encoding="utf-8")
    block = re.search(r'<div class="coordkit-selfcheck"[^>]*>.*?</div>', html, re.S)
    assert block, "the self-check is missing from the static page"
    assert "<details>" in block.group(0) and block.group(0).count('<fieldset class="coordkit-q"') >= 3
    assert 'type="application/vnd.jupyter.widget-view+json"' not in html


def test_an_unknown_fact_stops_the_build(tmp_path, root):
    import shutil

    from coordkit.book import build_book
    from coordkit.config import load_settings
    from coordkit.errors import ToolError

    for rel in ("_config.yml", "pyproject.toml", "datasets/facts.yml"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(root / rel, tmp_path / rel)
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/page\n", encoding="utf-8")
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "page.md").write_text(
        "# A page\n\nReport within {fact}`residence.no_such_fact`.\n", encoding="utf-8")
    with pytest.raises(ToolError, match="book build failed: .*residence.no_such_fact"):
        build_book(settings=load_settings(tmp_path))
