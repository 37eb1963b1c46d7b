"""A Sphinx extension for the two editions of the book (English at _build/html/, Japanese at
_build/html/ja/). Every page gets a link to its counterpart in the other language.

Page mapping: English page `book/<path>` <-> Japanese page `book/ja/<path>`. The Japanese edition is
a parallel Jupyter Book built from the same sources folder with _toc_ja.yml and `language: ja`.
"""

from __future__ import annotations

import os
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


def _add_japanese_font(app: Sphinx, config) -> None:
    """Japanese renders in both editions even where the reader has no Japanese font.
    book/_static/coordkit-fonts.css puts the usual Japanese system fonts first and IPAexGothic last, as
    a web font; the font and its license (IPA Font License v1.0: redistribution with the license) are
    copied into _static/ at build time from the pinned matplotlib-fontja package, so the 6 MB binary is
    not in the repository. coordkit-fonts.js works around Chromium keeping empty boxes for text laid
    out while the font was loading."""
    static = os.path.join(app.confdir, "book", "_static")
    if not config.coordkit_editions or not os.path.isfile(os.path.join(static, "coordkit-fonts.css")):
        return
    import matplotlib_fontja

    fonts = os.path.dirname(matplotlib_fontja.get_font_ttf_path())     # ipaexg.ttf, its license, readme
    config.html_static_path = [*config.html_static_path, static, fonts]
    app.add_css_file("coordkit-fonts.css")
    app.add_js_file("coordkit-fonts.js")
    # self-checks are answered in the browser (coordkit.selfcheck renders the form)
    app.add_css_file("coordkit-selfcheck.css")
    app.add_js_file("coordkit-selfcheck.js")


def setup(app: Sphinx) -> dict:
    app.add_config_value("coordkit_editions", False, "html")
    app.connect("config-inited", _add_japanese_font)
    app.connect("doctree-resolved", _add_switch)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
