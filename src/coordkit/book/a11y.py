"""Accessibility fixes on finished HTML (book pages, feedback pages, the evaluation report).

`mark_languages` marks text in the other language (WCAG 3.1.2 Language of Parts): in a page whose
<html lang> is English, each run of Japanese text not already inside an element with lang="ja" is
wrapped in <span lang="ja">; any element with the class `coordkit-lang-en` gets lang="en". The page is
rewritten token by token: everything else is kept as written.

`fix_theme_names` gives the book theme's icon buttons names that match their twins, their visible
text and the page's language (WCAG 2.5.3, 3.2.4, 4.1.2). It is idempotent.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

JAPANESE = "\u3000-\u303f\u3041-\u309f\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff9f"
_RUN = re.compile(f"[{JAPANESE}]+(?:[ 0-9]+[{JAPANESE}]+)*")
_ANY = re.compile(f"[{JAPANESE}]")
_SKIP = {"script", "style", "title", "textarea", "svg", "math", "option", "head", "template"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_HTML_LANG = re.compile(r"<html[^>]*\blang=\"([^\"]+)\"", re.I)


class _Marker(HTMLParser):
    def __init__(self, page_lang: str):
        super().__init__(convert_charrefs=False)
        self.page_lang = page_lang
        self.out: list[str] = []
        self.stack: list[tuple[str, str | None, bool]] = []

    def _lang(self) -> str:
        for _, lang, _ in reversed(self.stack):
            if lang:
                return lang
        return self.page_lang

    def _skipping(self) -> bool:
        return any(skip for _, _, skip in self.stack)

    def handle_starttag(self, tag, attrs):
        text = self.get_starttag_text() or f"<{tag}>"
        values = dict(attrs)
        lang = values.get("lang")
        if "coordkit-lang-en" in (values.get("class") or "").split() and lang is None:
            end = -2 if text.endswith("/>") else -1
            text = text[:end] + ' lang="en"' + text[end:]
            lang = "en"
        if tag not in _VOID:
            self.stack.append((tag, lang, tag in _SKIP))
        self.out.append(text)

    def handle_startendtag(self, tag, attrs):
        self.out.append(self.get_starttag_text() or f"<{tag}/>")

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break
        self.out.append(f"</{tag}>")

    def handle_data(self, data):
        if _ANY.search(data) and not self._skipping() and self._lang().lower().startswith("en"):
            data = _RUN.sub(lambda m: f'<span lang="ja">{m.group()}</span>', data)
        self.out.append(data)

    def handle_entityref(self, name):
        self.out.append(f"&{name};")

    def handle_charref(self, name):
        self.out.append(f"&#{name};")

    def handle_comment(self, data):
        self.out.append(f"<!--{data}-->")

    def handle_decl(self, decl):
        self.out.append(f"<!{decl}>")

    def handle_pi(self, data):
        self.out.append(f"<?{data}>")

    def unknown_decl(self, data):
        self.out.append(f"<![{data}]>")


def mark_languages(html: str, page_lang: str | None = None) -> str:
    """The page with Japanese runs in English text marked lang="ja" (see the module docstring)."""
    if page_lang is None:
        found = _HTML_LANG.search(html)
        page_lang = found.group(1) if found else "en"
    if not _ANY.search(html) and "coordkit-lang-en" not in html:
        return html
    parser = _Marker(page_lang)
    parser.feed(html)
    parser.close()
    rest = parser.rawdata if hasattr(parser, "rawdata") else ""
    return "".join(parser.out) + rest


_NAMES = {
    "en": {"primary": "Site navigation", "secondary": "On this page", "expand": "Show or hide the pages in this section",
           "mode": "Color mode"},
    "ja": {"primary": "サイトナビゲーション", "secondary": "このページの目次", "expand": "この節のページを表示／非表示",
           "mode": "カラーモード"},
}


def fix_theme_names(html: str) -> str:
    found = _HTML_LANG.search(html)
    names = _NAMES["ja" if found and found.group(1).startswith("ja") else "en"]
    for side in ("primary", "secondary"):
        # the header's icon button and the navbar's button open the same sidebar: one name for both
        html = re.sub(rf'<button class="([^"]*\bsidebar-toggle {side}-toggle\b[^"]*)"( title="[^"]*")?( aria-label="[^"]*")?',
                      lambda m, n=names[side]: f'<button class="{m.group(1)}" title="{n}" aria-label="{n}"', html)
    html = html.replace('<summary><span class="toctree-toggle" role="presentation">',
                        f'<summary aria-label="{names["expand"]}"><span class="toctree-toggle" role="presentation">')
    html = html.replace('aria-label="Color mode" data-bs-title="Color mode"',
                        f'aria-label="{names["mode"]}" data-bs-title="{names["mode"]}"')
    # the mode icons are decoration: the button's name is "Color mode" (their titles made it mismatch)
    html = html.replace('<i class="theme-switch ', '<i aria-hidden="true" class="theme-switch ')
    # the search field's visible text is "Search Ctrl+K": let the name come from it (2.5.3 Label in Name)
    html = re.sub(r'(<button class="btn search-button-field [^"]*" title="[^"]*") aria-label="[^"]*"', r"\1", html)
    return html
