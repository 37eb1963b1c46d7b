"""A Sphinx extension for the two editions of the book (English at _build/html/, Japanese at
_build/html/ja/). Every page gets a link to its counterpart in the other language.

Page mapping: English page `book/<path>` <-> Japanese page `book/ja/<path>`. The Japanese edition is
a parallel Jupyter Book built from the same sources folder with _toc_ja.yml and `language: ja`.

Addresses: the Japanese source `book/ja/<path>.md` is published at `ja/book/<path>.html` (not
`ja/book/ja/<path>.html`), so that the two editions differ only by the leading `ja/`. The HTML builder's
page addresses and file names, and the search index, use the published name; the old address of
every page gets a small redirect page (with its #fragment kept), so links and bookmarks keep working.
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


def published(docname: str) -> str:
    """Where a page is published within its edition: `book/ja/<path>` -> `book/<path>`."""
    return "book/" + docname[len(JA_PREFIX):] if docname.startswith(JA_PREFIX) else docname


def counterpart_url(docname: str, edition: str) -> str:
    """Relative URL from this page to its counterpart (the ja site sits in ja/ under the en site)."""
    other = counterpart(docname, edition)
    if edition == "ja":
        return "../" * (published(docname).count("/") + 1) + other + ".html"
    return "../" * docname.count("/") + "ja/" + published(other) + ".html"


def _publish_without_ja(app: Sphinx) -> None:
    """The Japanese edition's HTML builder writes and links `book/ja/<path>` as `book/<path>`."""
    builder = app.builder
    if not app.config.coordkit_editions or _edition(app) != "ja" or builder.format != "html" \
            or not hasattr(builder, "get_outfilename"):
        return
    target_uri, outfilename = builder.get_target_uri, builder.get_outfilename

    def get_target_uri(docname: str, typ: str | None = None) -> str:
        uri = target_uri(docname, typ)
        return "book/" + uri[len(JA_PREFIX):] if uri.startswith(JA_PREFIX) else uri

    builder.get_target_uri = get_target_uri
    builder.get_outfilename = lambda pagename: outfilename(published(pagename))


REDIRECT = """<!DOCTYPE html>
<html lang="ja">
<head>
<meta charset="utf-8">
<title>このページは移動しました / This page has moved</title>
<link rel="canonical" href="{url}">
<meta http-equiv="refresh" content="0; url={url}">
<script>location.replace({url_js} + location.search + location.hash);</script>
</head>
<body>
<main><p>このページは移動しました： <a href="{url}">{url}</a></p>
<p lang="en">This page has moved: <a href="{url}">{url}</a></p></main>
</body>
</html>
"""


def _search_index_and_redirects(app: Sphinx, exception) -> None:
    """The search index names pages by their published address; the old addresses redirect."""
    import json

    if exception is not None or not app.config.coordkit_editions or _edition(app) != "ja" \
            or app.builder.format != "html" or not hasattr(app.builder, "get_outfilename"):
        return
    outdir = str(app.outdir)
    index = os.path.join(outdir, "searchindex.js")
    if os.path.isfile(index):
        with open(index, encoding="utf-8") as handle:
            text = handle.read()
        head, body = text[:text.index("(") + 1], text[text.index("(") + 1:text.rindex(")")]
        data = json.loads(body)
        data["docnames"] = [published(d) for d in data["docnames"]]
        with open(index, "w", encoding="utf-8") as handle:
            handle.write(head + json.dumps(data, ensure_ascii=False, separators=(",", ":")) + ")")
    root = os.path.join(outdir, "index.html")      # Jupyter Book's redirect to the root page
    if os.path.isfile(root):
        with open(root, encoding="utf-8") as handle:
            text = handle.read()
        with open(root, "w", encoding="utf-8") as handle:
            handle.write(text.replace("url=" + JA_PREFIX, "url=book/"))
    for docname in app.env.found_docs:
        if not docname.startswith(JA_PREFIX):
            continue
        old = os.path.join(outdir, *docname.split("/")) + ".html"
        url = posixpath.relpath(published(docname) + ".html", posixpath.dirname(docname))
        os.makedirs(os.path.dirname(old), exist_ok=True)
        with open(old, "w", encoding="utf-8") as handle:
            handle.write(REDIRECT.format(url=url, url_js=json.dumps(url)))


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
    # the link's own text is in the other language (WCAG 3.1.2): coordkit.book.extensions.a11y marks Japanese runs
    # in English pages; the English label on a Japanese page is marked here
    if edition == "ja":
        para["classes"].append("coordkit-lang-en")
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
    # self-checks are answered in the browser (coordkit.book.selfcheck renders the form)
    app.add_css_file("coordkit-selfcheck.css")
    app.add_js_file("coordkit-selfcheck.js")


def setup(app: Sphinx) -> dict:
    app.add_config_value("coordkit_editions", False, "html")
    app.connect("config-inited", _add_japanese_font)
    app.connect("doctree-resolved", _add_switch)
    app.connect("builder-inited", _publish_without_ja)
    app.connect("build-finished", _search_index_and_redirects, priority=800)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
