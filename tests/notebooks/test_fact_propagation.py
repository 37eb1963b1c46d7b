"""A fact edit reaches every page that cites it, in both editions, on a warm build; pages that do not
cite it are not executed again (coordkit.book.extensions.facts: per-page fact digests, env-get-outdated and a
digest cell for the execution cache). Built into a temporary folder with `coordkit book build`'s code."""

import re
import shutil

import pytest

pytestmark = pytest.mark.slow

NOTEBOOK_HEAD = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""

PAGES = {
    "index": "# Start\n\nA small book.\n",
    # cites the fact with a role only
    "by_role": "# By role\n\nReport a move within {fact}`residence.moving_days`.\n\n```{fact-sources}\n```\n",
    # a code cell reads the fact from the registry
    "by_code": NOTEBOOK_HEAD + """
# By code

```{code-cell} ipython3
from coordkit.book import page_facts

F = page_facts()
print("moving-value:", F["residence.moving_days"].value)
```
""",
    # a code cell reads another fact; it prints a stamp that changes whenever the page is executed
    "other": NOTEBOOK_HEAD + """
# Other

```{code-cell} ipython3
import time

from coordkit.book import page_facts

F = page_facts()
print("carry-age:", F["residence.card_carry_age"].value, "stamp:", time.time_ns())
```
""",
}


def _toc(prefix: str) -> str:
    chapters = "\n".join(f"  - file: {prefix}{name}" for name in PAGES if name != "index")
    return f"format: jb-book\nroot: {prefix}index\nchapters:\n{chapters}\n"


@pytest.fixture(scope="module")
def book(root, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("factbook")
    for rel in ("_config.yml", "_config_ja.yml", "pyproject.toml", "datasets/facts.yml", "datasets/glossary.yml",
                "book/syllabus.yml"):
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(root / rel, tmp / rel)
    shutil.copytree(root / "book" / "_static", tmp / "book" / "_static")
    for prefix in ("book/", "book/ja/"):
        for name, text in PAGES.items():
            (tmp / prefix / f"{name}.md").parent.mkdir(parents=True, exist_ok=True)
            (tmp / prefix / f"{name}.md").write_text(text, encoding="utf-8")
    (tmp / "_toc.yml").write_text(_toc("book/"), encoding="utf-8")
    (tmp / "_toc_ja.yml").write_text(_toc("book/ja/"), encoding="utf-8")
    return tmp


def _html(result, edition: str, name: str) -> str:
    folder = result.html_dir / "ja" if edition == "ja" else result.html_dir
    return (folder / "book" / f"{name}.html").read_text(encoding="utf-8")     # ja/book/<page>: no repeated ja


def _stamp(html: str) -> str:
    return re.search(r"stamp: (\d+)", html).group(1)


def test_a_fact_edit_reaches_every_citing_page_in_both_editions_and_no_other(book):
    from coordkit.book import build_book
    from coordkit.config import load_settings

    settings = load_settings(book)
    cold = build_book(settings=settings)
    for edition in ("en", "ja"):
        assert "moving-value: 14" in _html(cold, edition, "by_code")
    assert "14 days" in _html(cold, "en", "by_role") and "14日" in _html(cold, "ja", "by_role")
    stamps = {e: _stamp(_html(cold, e, "other")) for e in ("en", "ja")}

    facts = book / "datasets" / "facts.yml"
    text = facts.read_text(encoding="utf-8")
    entry = text.index("  - id: residence.moving_days\n    value: 14\n")
    facts.write_text(text[:entry] + text[entry:].replace("value: 14", "value: 15", 1), encoding="utf-8")

    warm = build_book(settings=settings)
    for edition in ("en", "ja"):
        code_page = _html(warm, edition, "by_code")
        assert "moving-value: 15" in code_page and "moving-value: 14" not in code_page, edition
        # the page that cites another fact kept its cached outputs: it was not executed again
        assert _stamp(_html(warm, edition, "other")) == stamps[edition], edition
    role_en, role_ja = _html(warm, "en", "by_role"), _html(warm, "ja", "by_role")
    assert "15 days" in role_en and "14 days" not in role_en
    assert "15日" in role_ja and "14日" not in role_ja
