"""A Sphinx extension for the two editions of the book (English at _build/html/, Japanese at
_build/html/ja/). Every page gets a link to its counterpart in the other language.

Page mapping: English page `book/<path>` <-> Japanese page `book/ja/<path>`. The Japanese edition is
a parallel Jupyter Book built from the same sources folder with _toc_ja.yml and `language: ja`.
"""

from __future__ import annotations

import posixpath

from docutils import nodes
from sphinx.application import Sphinx

JA_PREFIX = "book/ja/"


def counterpart(docname: str, edition: str) -> str:
    """The counterpart docname in the other edition."""
    if edition == "ja":
        return "book/" + docname[len(JA_PREFIX):] if docname.startswith(JA_PREFIX) else docname
    return JA_PREFIX + docname[len("book/"):] if docname.startswith("book/") else docname


def counterpart_url(docname: str, edition: str) -> str:
    """Relative URL from this page to its counterpart (the ja site sits in ja/ under the en site)."""
    depth = docname.count("/")
    other = counterpart(docname, edition)
    if edition == "ja":
        return "../" * (depth + 1) + other + ".html"
    return "../" * depth + "ja/" + other + ".html"


def _edition(app: Sphinx) -> str:
    return "ja" if (app.config.language or "en").startswith("ja") else "en"


def _add_switch(app: Sphinx, doctree, docname: str) -> None:
    if not app.config.coordkit_editions or app.builder.format != "html":
        return
    edition = _edition(app)
    label = "English version" if edition == "ja" else "日本語版"
    para = nodes.paragraph(classes=["coordkit-language-switch"])
    para += nodes.reference("", label, refuri=counterpart_url(docname, edition),
                            classes=["coordkit-counterpart"], hreflang="en" if edition == "ja" else "ja")
    sections = list(doctree.findall(nodes.section))
    if sections:
        title = sections[0].next_node(nodes.title)
        if title is not None:
            title.parent.insert(title.parent.index(title) + 1, para)
            return
    doctree.insert(0, para)


def setup(app: Sphinx) -> dict:
    app.add_config_value("coordkit_editions", False, "html")
    app.connect("doctree-resolved", _add_switch)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
