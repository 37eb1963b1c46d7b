"""Both editions as readers get them. `coordkit book build` builds English to _build/html/ and Japanese
to _build/html/ja/; the Japanese pages declare Japanese, every page links to its counterpart and back,
and the Japanese search finds Japanese words. Then a page of each edition is opened in headless
Chromium (driven over the DevTools protocol on a pipe, standard library only): a screenshot is taken
(kept in _build/screenshots/), the rendered text is checked against the page's source and the facts
registry, and every Japanese text on the page is checked to be drawn with real glyphs, not empty boxes.

Chromium comes from the system (`make test` installs the Debian package where it can); without it the
browser tests are skipped with the reason."""

from __future__ import annotations

import base64
import fcntl
import io
import json
import math
import os
import re
import select
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PAGE = "book/modules/residence_card"       # facts, tables and a self-check; Japanese in both editions
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--remote-debugging-pipe"]


# -- the build ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def built(built_book):
    result = built_book
    assert (result.html_dir / "ja" / "index.html").is_file(), \
        "no Japanese edition in _build/html/ja/: _config_ja.yml and _toc_ja.yml must both exist"
    return result


def edition_pages(built, edition: str) -> list[Path]:
    """The edition's pages (the Japanese ones at ja/book/<path>; ja/book/ja/ holds only redirects)."""
    base = built.html_dir / "ja" if edition == "ja" else built.html_dir
    return sorted(p for p in (base / "book").rglob("*.html")
                  if not (edition == "ja" and p.relative_to(base).parts[:2] == ("book", "ja")))


def ja_docname(docname: str) -> str:
    from coordkit.book.extensions.edition import counterpart

    return counterpart(docname, "en")


def html_page(built, docname: str, edition: str) -> Path:
    from coordkit.book.extensions.edition import published

    if edition == "ja":
        return built.html_dir / "ja" / f"{published(ja_docname(docname))}.html"
    return built.html_dir / f"{docname}.html"


def test_both_editions_have_the_same_pages_and_declare_their_language(built):
    en, ja = edition_pages(built, "en"), edition_pages(built, "ja")
    assert len(en) == len(ja) > 0, f"{len(en)} English pages but {len(ja)} Japanese pages"
    for edition, pages in (("en", en), ("ja", ja)):
        wrong = [str(p.relative_to(built.html_dir)) for p in pages
                 if f'<html lang="{edition}"' not in p.read_text(encoding="utf-8")]
        assert not wrong, f"pages without <html lang=\"{edition}\">: {wrong}"


def counterpart_link(page: Path) -> Path:
    match = re.search(r'<a class="[^"]*\bcoordkit-counterpart\b[^"]*" href="([^"#]+)', page.read_text(encoding="utf-8"))
    assert match, f"{page}: no link to the page in the other language"
    return (page.parent / match[1]).resolve()


@pytest.mark.parametrize("edition", ["en", "ja"])
def test_every_page_links_to_its_counterpart_and_back(built, edition):
    for page in edition_pages(built, edition):
        other = counterpart_link(page)
        assert other.is_file(), f"{page.relative_to(built.html_dir)} links to {other}, which was not built"
        assert counterpart_link(other) == page.resolve(), f"{other} does not link back to {page}"


def test_the_japanese_search_index_is_japanese(built):
    options = (built.html_dir / "ja" / "_static" / "documentation_options.js").read_text(encoding="utf-8")
    assert re.search(r"LANGUAGE: '(ja)'", options), "the Japanese edition's search is not set to Japanese"
    text = (built.html_dir / "ja" / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(text[text.index("(") + 1:text.rindex(")")])
    # the index names pages by their published address, ja/book/<path> (coordkit.book.extensions.edition)
    assert all((built.html_dir / "ja" / f"{doc}.html").is_file() and not doc.startswith("book/ja/")
               for doc in index["docnames"]), "the Japanese index names pages that are not at their address"
    page = index["docnames"].index(PAGE)
    words = [w for w, docs in index["terms"].items()
             if JAPANESE.search(w) and page in (docs if isinstance(docs, list) else [docs])]
    assert words, "no Japanese word of the residence-card page is in the search index"


# -- headless Chromium --------------------------------------------------------------------------------

class Chromium:
    """Headless Chromium driven over the DevTools protocol on --remote-debugging-pipe (the browser reads
    commands from fd 3 and writes answers to fd 4, one JSON message per NUL-terminated chunk)."""

    def __init__(self, executable: str, profile: Path):
        commands_in, self._commands = os.pipe()
        self._answers, answers_out = os.pipe()

        def to_fds_3_and_4():
            a = fcntl.fcntl(commands_in, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(answers_out, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self._log = open(profile / "chromium.log", "wb")
        self.process = subprocess.Popen([executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                        pass_fds=(3, 4), preexec_fn=to_fds_3_and_4,
                                        stdout=self._log, stderr=subprocess.STDOUT)
        os.close(commands_in)
        os.close(answers_out)
        self._buffer, self._id, self._events = b"", 0, []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable", session=self.session)

    def _message(self, timeout: float) -> dict:
        while b"\0" not in self._buffer:
            if not select.select([self._answers], [], [], max(timeout, 0.1))[0]:
                raise TimeoutError("Chromium did not answer (see chromium.log in the test's profile folder)")
            chunk = os.read(self._answers, 1 << 20)
            if not chunk:
                raise RuntimeError(f"Chromium exited with code {self.process.poll()}")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, session: str | None = None, timeout: float = 60, **params) -> dict:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._message(deadline - time.monotonic())
            if answer.get("id") == self._id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self._events.append(answer)

    def js(self, expression: str):
        result = self.call("Runtime.evaluate", session=self.session, expression=expression,
                           awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:60]}...: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str, *, width: int = 1280, height: int = 900) -> None:
        self.call("Emulation.setDeviceMetricsOverride", session=self.session, width=width, height=height,
                  deviceScaleFactor=1, mobile=False)
        self._events.clear()
        self.call("Page.navigate", session=self.session, url=url)
        deadline = time.monotonic() + 60
        while not any(e.get("method") == "Page.loadEventFired" for e in self._events):
            self._events.append(self._message(deadline - time.monotonic()))
        self.js("document.fonts.ready.then(() => true)")

    def screenshot(self, clip: dict | None = None) -> bytes:
        params = {"format": "png"} | ({"clip": {**clip, "scale": 1}} if clip else {})
        return base64.b64decode(self.call("Page.captureScreenshot", session=self.session, **params)["data"])

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=10)
            self.process.wait(timeout=10)
        except (OSError, RuntimeError, TimeoutError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        for fd in (self._commands, self._answers):
            os.close(fd)
        self._log.close()


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    executable = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
    if executable is None:
        pytest.skip("headless Chromium is not installed; `make test` installs it with "
                    "`apt-get install -y chromium` where it can (Debian/Ubuntu as root)")
    browser = Chromium(executable, tmp_path_factory.mktemp("chromium-profile"))
    yield browser
    browser.close()


# For each text node with Japanese in it: the box of its first Japanese character, and a way to swap
# that character for U+0378 (unassigned, so no font has it: it is drawn as the empty box a missing
# glyph gives). If the page drew the real character as that same box, the two pictures are identical.
GLYPH_PROBE = r"""(() => {
  const japanese = /[\u3040-\u30ff\u3400-\u9fff]/;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const found = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.search(japanese);
    // not drawn: hidden, transparent, or inside a closed <details> (content-visibility: hidden)
    if (at < 0 || !node.parentElement.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) continue;
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + 1);
    const box = range.getBoundingClientRect();
    if (box.width >= 2 && box.height >= 2) found.push({node, at, char: node.data[at], box});
  }
  window.coordkitSwap = (i, missing) => {
    const g = found[i];
    g.node.replaceData(g.at, 1, missing ? "\u0378" : g.char);
  };
  return found.map(g => ({text: g.node.data.trim().slice(0, 40), x: g.box.left + scrollX,
                          y: g.box.top + scrollY, w: g.box.width, h: g.box.height}));
})()"""


def empty_box_texts(browser: Chromium) -> tuple[int, list[str]]:
    """(number of Japanese texts on the page, those whose first Japanese character is drawn as an
    empty box). The whole page is made one screen high so that every text is drawn."""
    from PIL import Image

    height = browser.js("document.documentElement.scrollHeight")
    browser.call("Emulation.setDeviceMetricsOverride", session=browser.session, width=1280,
                 height=min(height, 16000), deviceScaleFactor=1, mobile=False)
    browser.js("document.fonts.ready.then(() => true)")
    glyphs = browser.js(GLYPH_PROBE)
    page = Image.open(io.BytesIO(browser.screenshot())).convert("RGB")
    boxes = []
    for i, glyph in enumerate(glyphs):
        x0, y0 = math.floor(glyph["x"]), math.floor(glyph["y"])
        x1, y1 = math.ceil(glyph["x"] + glyph["w"]), math.ceil(glyph["y"] + glyph["h"])
        browser.js(f"coordkitSwap({i}, true)")
        missing = browser.screenshot(clip={"x": x0, "y": y0, "width": x1 - x0, "height": y1 - y0})
        browser.js(f"coordkitSwap({i}, false)")
        if Image.open(io.BytesIO(missing)).convert("RGB").tobytes() == page.crop((x0, y0, x1, y1)).tobytes():
            boxes.append(glyph["text"])
    return len(glyphs), boxes


def page_source(docname: str, edition: str) -> str:
    return (ROOT / f"{ja_docname(docname) if edition == 'ja' else docname}.md").read_text(encoding="utf-8")


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("edition", ["en", "ja"])
def test_a_page_shows_its_text_in_real_glyphs(built, chromium, facts, settings, edition):
    from coordkit.content.facts import used_fact_ids

    chromium.open(html_page(built, PAGE, edition).as_uri())
    shots = settings.build_dir / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    (shots / f"{edition}_{PAGE.rsplit('/', 1)[-1]}.png").write_bytes(chromium.screenshot())

    assert chromium.js("document.documentElement.lang") == edition
    shown = flat(chromium.js("document.body.innerText"))
    source = page_source(PAGE, edition)
    title = re.search(r"^# (.+)$", source, re.M)[1]
    assert flat(title) in shown, f"the page's title {title!r} is not shown"
    statements = [facts[i].statement(edition) for i in sorted(used_fact_ids([source]))
                  if f"{{fact-text}}`{i}`" in source]
    assert statements, "the page has no {fact-text} to check"
    missing = [s for s in statements if flat(s) not in shown]
    assert not missing, f"fact statements not shown in {edition}: {missing}"
    switch = chromium.js("document.querySelector('a.coordkit-counterpart').innerText")
    assert bool(JAPANESE.search(switch)) == (edition == "en"), f"the language switch reads {switch!r}"
    if edition == "ja":
        placeholder = chromium.js("document.querySelector('input[type=search]').placeholder")
        assert JAPANESE.search(placeholder), f"the search box of the Japanese edition says {placeholder!r}"

    count, boxes = empty_box_texts(chromium)
    assert count, "no Japanese text found on the page"
    assert not boxes, (f"{len(boxes)} of {count} Japanese texts are drawn as empty boxes (no font with "
                       f"Japanese glyphs was used): {boxes[:10]}")


def test_the_japanese_search_finds_a_japanese_term(built, chromium, settings):
    from coordkit.content.glossary import load_glossary

    term = load_glossary(settings.root / "datasets" / "glossary.yml")["residence_card"].ja
    chromium.open((built.html_dir / "ja" / "search.html").as_uri() + "?q=" + quote(term))
    links: list[str] = []
    deadline = time.monotonic() + 30
    while not links and time.monotonic() < deadline:
        time.sleep(0.2)
        links = chromium.js("[...document.querySelectorAll('#search-results a')].map(a => a.getAttribute('href'))")
    target = PAGE + ".html"         # published at ja/book/<path> (coordkit.book.extensions.edition)
    assert any(link.split("?")[0].split("#")[0].endswith(target) for link in links), \
        f"searching {term!r} in the Japanese edition gives {links}, not {target}"
