"""A Sphinx extension: the book's search finds Japanese words, in both editions.

Sphinx's default search splits text at non-word characters, so a Japanese sentence is one "word" and
a word inside it is never found (the English edition found nothing for 届出); its Japanese splitter
segments at index time only, and the query is not segmented the same way, so compound terms are
missed (特例期間 found 1 of 6 pages). Here both editions index Japanese text (kanji, kana) as
character unigrams and bigrams, and the query is split the same way in the browser (a Japanese query
word becomes its bigrams, which must all be on the page). So a page is found for any Japanese word on
it, whatever its length, and the query and the index can never disagree on word boundaries — the
n-gram indexing many CJK search engines use. Latin-script words are indexed as before (stemmed in the
English edition).

The Japanese edition also gets the "search finished" message Sphinx's Japanese catalogue lacks.
"""

from __future__ import annotations

import re

from sphinx.application import Sphinx
from sphinx.search import SearchLanguage
from sphinx.search.en import SearchEnglish

# kana, the iteration marks 々 〆 〇, CJK ideographs (with extension A and compatibility ideographs),
# half-width katakana; the same ranges in JS below
CJK_CLASS = "\u3005-\u3007\u3041-\u309f\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
_CJK_RUN = re.compile(f"[{CJK_CLASS}]+")
_WORD = re.compile(r"\w+")

JS_SPLITTER = """
/* coordkit.sphinx_search: Japanese runs become character bigrams (the index holds unigrams and bigrams) */
var splitQuery = (query) => {
  const cjk = /[%s]+/gu;
  const grams = (run) => run.length < 2 ? [run] : [...Array(run.length - 1).keys()].map((i) => run.slice(i, i + 2));
  const out = [];
  query.split(/[^\\p{Letter}\\p{Number}_\\p{Emoji_Presentation}]+/gu).filter((t) => t).forEach((token) => {
    let last = 0;
    for (const m of token.matchAll(cjk)) {
      if (m.index > last) out.push(token.slice(last, m.index));
      out.push(...grams(m[0]));
      last = m.index + m[0].length;
    }
    if (last < token.length) out.push(token.slice(last));
  });
  return out;
};
""" % "".join(f"\\u{ord(c):04x}" if c != "-" else "-" for c in CJK_CLASS)


def ngrams(run: str) -> list[str]:
    """Unigrams and bigrams of a run of Japanese characters."""
    return list(run) + [run[i:i + 2] for i in range(len(run) - 1)]


def split_words(text: str) -> list[str]:
    """Index-time split: Latin-script words as they are; Japanese runs as unigrams and bigrams."""
    words: list[str] = []
    for token in _WORD.findall(text):
        last = 0
        for match in _CJK_RUN.finditer(token):
            if match.start() > last:
                words.append(token[last:match.start()])
            words.extend(ngrams(match.group()))
            last = match.end()
        if last < len(token):
            words.append(token[last:])
    return words


def _is_cjk(word: str) -> bool:
    return bool(word) and _CJK_RUN.fullmatch(word) is not None


class SearchEnglishWithJapanese(SearchEnglish):
    """English (stemmed, with English stop words) plus Japanese n-grams."""
    js_splitter_code = JS_SPLITTER

    def split(self, input: str) -> list[str]:
        return split_words(input)

    def stem(self, word: str) -> str:
        return word if _is_cjk(word) else super().stem(word)

    def word_filter(self, word: str) -> bool:
        return _is_cjk(word) or super().word_filter(word)


class SearchJapaneseNgram(SearchLanguage):
    lang = "ja"
    language_name = "Japanese"
    js_splitter_code = JS_SPLITTER

    def split(self, input: str) -> list[str]:
        return split_words(input)

    def word_filter(self, word: str) -> bool:
        return _is_cjk(word) or super().word_filter(word)

    def stem(self, word: str) -> str:
        return word.lower()


JA_MESSAGES = """
/* coordkit.sphinx_search: messages missing from Sphinx's Japanese catalogue */
if (typeof Documentation !== "undefined" && Documentation.TRANSLATIONS) {
  Object.assign(Documentation.TRANSLATIONS, {
    "Search finished, found ${resultCount} page(s) matching the search query.":
      "\\u691c\\u7d22\\u304c\\u7d42\\u308f\\u308a\\u307e\\u3057\\u305f\\u3002${resultCount} \\u30da\\u30fc\\u30b8\\u304c\\u898b\\u3064\\u304b\\u308a\\u307e\\u3057\\u305f\\u3002"
  });
}
"""


def _register(app: Sphinx, config) -> None:
    if not config.coordkit_search:
        return
    app.add_search_language(SearchJapaneseNgram if (config.language or "en").startswith("ja")
                            else SearchEnglishWithJapanese)
    if (config.language or "en").startswith("ja"):
        app.add_js_file(None, body=JA_MESSAGES, priority=900)


def setup(app: Sphinx) -> dict:
    app.add_config_value("coordkit_search", True, "html")
    app.connect("config-inited", _register)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
