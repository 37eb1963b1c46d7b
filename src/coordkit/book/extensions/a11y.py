"""A Sphinx extension for WCAG 2.1 AA in the built book, and for pages without console errors.

After the HTML is written, every page is rewritten once (coordkit.book.a11y.mark_languages and
fix_theme_names, on the markup as written, everything else byte for byte):

- Language of parts (3.1.2): in an English page, every run of Japanese text outside an element that
  already declares lang="ja" is wrapped in <span lang="ja">; an element with the class
  `coordkit-lang-en` (the "English version" link of a Japanese page) gets lang="en".
- Names (2.5.3, 4.1.2, 3.2.4): the theme's sidebar buttons get the same name as their twins (the
  header's "Toggle primary sidebar" button is the "Site navigation" button), in the page's language;
  the chevrons that open a section of the navigation get a name; "Color mode" is translated.

Console: sphinx-thebe registers its inline script twice (`const THEBE_JS_URL` declared twice: a
SyntaxError on every page), so duplicate scripts are dropped from each page; the theme logs "Got
invalid theme mode" when no default mode is set, so the light mode is the default.
"""

from __future__ import annotations

import os

from sphinx.application import Sphinx

from ..a11y import fix_theme_names, mark_languages


def _default_mode(app: Sphinx, config) -> None:
    context = dict(config.html_context or {})
    context.setdefault("default_mode", "light")
    config.html_context = context


def _dedupe_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for js in scripts:
        key = (getattr(js, "filename", None) or "", repr(sorted((getattr(js, "attributes", None) or {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(js)
    context["script_files"] = kept


def _rewrite_pages(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html" or not app.config.coordkit_a11y:
        return
    outdir = str(app.outdir)
    for folder, dirs, files in os.walk(outdir):
        dirs[:] = [d for d in dirs if d not in ("_static", "_sources", "_images", "_downloads")]
        for name in files:
            if not name.endswith(".html"):
                continue
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
            new = fix_theme_names(mark_languages(text))
            if new != text:
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(new)


def setup(app: Sphinx) -> dict:
    app.add_config_value("coordkit_a11y", True, "html")
    app.connect("config-inited", _default_mode)
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    app.connect("build-finished", _rewrite_pages, priority=900)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
