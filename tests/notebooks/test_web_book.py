"""The built book as a reader uses it, in headless Chromium (Playwright, the system's Chromium):

- search: ten Japanese terms, in both editions, each finds every page whose text holds it;
- addresses: the Japanese edition at ja/book/<path>.html, the old ja/book/ja/<path>.html redirecting;
- console: no error on any page of either edition;
- accessibility: axe-core (WCAG 2.0/2.1 A and AA rules, plus label-content-name-mismatch) finds no
  violation on any page template of either edition; no Japanese text in an English page lacks lang="ja".

axe-core comes from npm (`make axe` puts it in .venv/node/); the build is `coordkit book build`."""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import socketserver
import threading
from pathlib import Path
from urllib.parse import quote

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / ".venv" / "node" / "node_modules" / "axe-core" / "axe.min.js"
TERMS = ["届出", "特例期間", "在留カード", "技能実習", "通訳", "国籍", "難民", "生活保護", "育成就労", "相談記録"]
# one page of each template: the root page, a module with facts and a self-check, a domain index and
# chapter, the glossary, a page with executed tables, a guide, search and the general index
TEMPLATES = ["book/intro.html", "book/modules/residence_card.html", "book/domains/index.html",
             "book/domains/housing.html", "book/reference/glossary.html", "book/evaluation/public_summary.html",
             "book/guides/lecturer_guide.html", "search.html", "genindex.html"]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
JAPANESE = re.compile(r"[\u3041-\u30ff\u3400-\u9fff]")


@pytest.fixture(scope="module")
def html(built_book):
    return built_book.html_dir


@pytest.fixture(scope="module")
def server(html):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = socketserver.ThreadingTCPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(html)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        pytest.skip("no Chromium (make chromium installs it where it can)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()


def edition_dir(html: Path, edition: str) -> Path:
    return html / "ja" if edition == "ja" else html


def article_text(page: Path) -> str:
    text = page.read_text(encoding="utf-8")
    match = re.search(r"<article[^>]*>(.*)</article>", text, re.S)
    return re.sub(r"<[^>]+>", "", match[1] if match else "")


def book_pages(html: Path, edition: str) -> dict[str, Path]:
    base = edition_dir(html, edition)
    return {str(p.relative_to(base)): p for p in sorted((base / "book").rglob("*.html"))
            if not (edition == "ja" and p.relative_to(base).parts[:2] == ("book", "ja"))}


def search(page, url: str) -> tuple[set[str], str]:
    page.goto(url)
    page.wait_for_function("() => { const s = document.querySelector('#search-results p.search-summary');"
                           " return s && s.textContent.trim() && !s.textContent.includes('...'); }", timeout=30000)
    hrefs = page.eval_on_selector_all("#search-results ul.search li a", "els => els.map(e => e.getAttribute('href'))")
    return {h.split("?")[0].split("#")[0] for h in hrefs}, page.inner_text("#search-results p.search-summary")


@pytest.mark.parametrize("edition", ["en", "ja"])
def test_search_finds_every_page_holding_a_japanese_term(html, server, browser, edition):
    pages = {name: article_text(path) for name, path in book_pages(html, edition).items()}
    page = browser.new_page()
    prefix = "ja/" if edition == "ja" else ""
    missed = {}
    for term in TERMS:
        expected = {name for name, text in pages.items() if term in text}
        assert expected, f"{term} is on no page of the {edition} edition: choose another term"
        found, summary = search(page, server + prefix + "search.html?q=" + quote(term))
        assert re.search(r"\d+", summary), f"the search for {term} did not say it finished: {summary!r}"
        if expected - found:
            missed[term] = sorted(expected - found)
    assert not missed, f"{edition} edition: pages holding the term but not found: {missed}"
    found, _ = search(page, server + prefix + "search.html?q=" + quote("猫犬"))
    assert not found, "a term on no page found pages"
    page.close()


def test_japanese_pages_live_at_ja_book_and_old_addresses_redirect(html, server, browser):
    assert (html / "ja" / "book" / "modules" / "residence_card.html").is_file()
    page = browser.new_page()
    page.goto(server + "ja/book/ja/modules/residence_card.html#section")
    page.wait_for_url(re.compile(r".*/ja/book/modules/residence_card\.html#section$"), timeout=10000)
    page.goto(server + "ja/index.html")
    page.wait_for_url(re.compile(r".*/ja/book/intro\.html$"), timeout=10000)
    page.close()


def test_no_console_errors_on_any_page(html, server, browser):
    errors: dict[str, list[str]] = {}
    pages = [p for p in sorted(html.rglob("*.html")) if "_static" not in p.parts]
    for path in pages:
        rel = str(path.relative_to(html))
        page = browser.new_page()
        seen: list[str] = []
        # "Failed to load resource" messages are reported with their address by the response handler;
        # the browser's own /favicon.ico request is not the page's
        page.on("console", lambda m, seen=seen: seen.append(m.text)
                if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
        page.on("response", lambda r, seen=seen: seen.append(f"HTTP {r.status}: {r.url}")
                if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
        page.on("pageerror", lambda e, seen=seen: seen.append(str(e)))
        # a redirect page's own request is cancelled by the redirect: not an error
        page.on("requestfailed", lambda r, seen=seen: seen.append(f"request failed: {r.url}")
                if r.resource_type != "document" else None)
        page.goto(server + rel, wait_until="load")
        page.wait_for_timeout(150)
        if seen:
            errors[rel] = seen
        page.close()
    assert not errors, f"console errors on {len(errors)} of {len(pages)} pages: {dict(list(errors.items())[:5])}"


def run_axe(page) -> list:
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing ({AXE}); run `make axe`")
    page.add_script_tag(path=str(AXE))
    return page.evaluate("""async (tags) => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                           rules: {'label-content-name-mismatch': {enabled: true}}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""", AXE_TAGS)


def untagged_japanese(page) -> list[str]:
    """Japanese text nodes in an English page outside any element with lang="ja"."""
    return page.evaluate("""() => {
        const out = [], walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        while (walker.nextNode()) {
            const node = walker.currentNode, el = node.parentElement;
            if (!/[\\u3041-\\u30ff\\u3400-\\u9fff]/.test(node.textContent) || el.closest('script,style,noscript')) continue;
            if (!(el.closest('[lang]').getAttribute('lang') || '').startsWith('ja')) out.push(node.textContent.trim().slice(0, 40));
        }
        return out.slice(0, 10);
    }""")


@pytest.mark.parametrize("edition", ["en", "ja"])
def test_axe_finds_no_wcag_a_or_aa_violation_on_any_page_template(html, server, browser, edition):
    prefix = "ja/" if edition == "ja" else ""
    found = {}
    for template in TEMPLATES:
        page = browser.new_page()
        page.goto(server + prefix + template, wait_until="load")
        page.wait_for_timeout(300)
        violations = run_axe(page)
        if edition == "en" and template != "search.html":
            untagged = untagged_japanese(page)
            if untagged:
                violations.append({"id": "language-of-parts (3.1.2)", "nodes": untagged})
        if violations:
            found[prefix + template] = violations
        page.close()
    assert not found, f"WCAG A/AA violations: {found}"
