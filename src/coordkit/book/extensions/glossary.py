"""A Sphinx extension: the book's glossary, rendered from `datasets/glossary.yml`.

In MyST:  ```{bilingual-glossary}
          ```                          -> a real Sphinx glossary: each entry is headed by the English
                                          term and the official Japanese term, so {term}`residence card`
                                          and {term}`在留カード` both link to it in either edition; the
                                          definition gives the reading and the easy-Japanese explanation
          ```{glossary-terms} housing
          ```                          -> the key terms of one life-domain chapter as a table, each
                                          linked to its glossary entry
The edition's language (`language:` in _config.yml) picks the headword and the sort order: English
alphabetical, or Japanese by reading (gojūon). A malformed glossary file is a build error.
Config: `coordkit_glossary_path` (default datasets/glossary.yml, relative to the book's folder).
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.domains.std import make_glossary_term

from ...content.glossary import Glossary, GlossaryEntry, GlossaryError, load_glossary
from .facts import _lang
from .nodes import table as simple_table

DEFAULT_PATH = "datasets/glossary.yml"
# A domain's chapter: book/domains/<domain> (English edition), book/ja/domains/<domain> (Japanese).
CHAPTERS = {"en": ("book/domains/",), "ja": ("book/ja/domains/", "book/domains/")}

_LABELS = {
    "en": {"reading": "Reading (読み方)", "easy": "Easy Japanese (やさしい日本語)", "see": "See also",
           "chapter": "Chapter", "head": ("Term", "日本語 (読み方)", "やさしい日本語")},
    "ja": {"reading": "読み方", "easy": "やさしい日本語", "see": "関連する用語", "chapter": "関連する章",
           "head": ("用語（読み方）", "English", "やさしい日本語")},
}


def _glossary(directive: Directive) -> Glossary:
    env = directive.state.document.settings.env
    path = Path(env.app.config.coordkit_glossary_path or DEFAULT_PATH)
    if not path.is_absolute():
        path = Path(env.app.confdir) / path
    env.note_dependency(str(path))
    return load_glossary(path)


def _anchor(entry: GlossaryEntry, lang: str) -> str:
    """Stable HTML ids, the same in both editions: #term-residence-card, #term-residence-card-ja."""
    base = "term-" + entry.id.replace("_", "-")
    return base + "-ja" if lang == "ja" else base


def _chapter(env, domain: str | None, lang: str) -> str | None:
    """The docname of the domain's chapter in this build, if the build has one."""
    for prefix in CHAPTERS[lang] if domain else ():
        if prefix + domain in env.found_docs:
            return prefix + domain
    return None


def _term_ref(env, entry: GlossaryEntry, lang: str) -> addnodes.pending_xref:
    text = entry.term(lang)
    ref = addnodes.pending_xref("", refdomain="std", reftype="term", reftarget=text.lower(),
                                refexplicit=False, refwarn=True, refdoc=env.docname)
    ref += nodes.inline(text, text, classes=["xref", "std", "std-term"])
    return ref


def _error(directive: Directive, exc: GlossaryError) -> list[nodes.Node]:
    return [directive.state.document.reporter.error(str(exc), line=directive.lineno)]


class BilingualGlossary(Directive):
    """The whole glossary as a Sphinx glossary (definition list of terms)."""
    has_content = False

    def run(self) -> list[nodes.Node]:
        env = self.state.document.settings.env
        lang = _lang(env.app)
        labels = _LABELS[lang]
        try:
            glossary = _glossary(self)
        except GlossaryError as exc:
            return _error(self, exc)
        source, line = self.state_machine.get_source_and_line(self.lineno)
        items = []
        for entry in glossary.ordered(lang):
            terms = []
            for term_lang in (lang, "en" if lang == "ja" else "ja"):
                term = make_glossary_term(env, [nodes.Text(entry.term(term_lang))], None, source, line,
                                          node_id=_anchor(entry, term_lang), document=self.state.document)
                self.state.document.note_explicit_target(term)
                terms.append(term)
            definition = nodes.definition()
            para = nodes.paragraph()
            para += nodes.strong(text=labels["reading"] + ": ")
            para += nodes.Text(entry.reading)
            definition += para
            para = nodes.paragraph(classes=["coordkit-easy-ja"])
            para += nodes.strong(text=labels["easy"] + ": ")
            para += nodes.Text(entry.easy_ja)
            definition += para
            if entry.see_also:
                para = nodes.paragraph()
                para += nodes.strong(text=labels["see"] + ": ")
                for i, ref_id in enumerate(entry.see_also):
                    if i:
                        para += nodes.Text(", " if lang == "en" else "、")
                    para += _term_ref(env, glossary[ref_id], lang)
                definition += para
            chapter = _chapter(env, entry.domain, lang)
            if chapter:
                para = nodes.paragraph()
                para += nodes.strong(text=labels["chapter"] + ": ")
                ref = addnodes.pending_xref("", refdomain="std", reftype="doc", refexplicit=False,
                                            reftarget="/" + chapter, refwarn=True,
                                            refdoc=env.docname)
                ref += nodes.inline("", "", classes=["xref", "std", "std-doc"])
                para += ref
                definition += para
            items.append(nodes.definition_list_item("", *terms, definition))
        dlist = nodes.definition_list("", *items, classes=["glossary", "coordkit-glossary"])
        node = addnodes.glossary()
        node["sorted"] = False          # already in the edition's order (Sphinx would sort by code point)
        node += dlist
        return [node]


class GlossaryTerms(Directive):
    """The glossary entries of one life domain as a table (a chapter's key terms)."""
    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        env = self.state.document.settings.env
        lang = _lang(env.app)
        try:
            entries = _glossary(self).for_domain(self.arguments[0].strip(), lang=lang)
        except GlossaryError as exc:
            return _error(self, exc)
        if not entries:
            return [self.state.document.reporter.warning(
                f"no glossary entry has domain {self.arguments[0]!r}; add some to the glossary file "
                "or remove this directive", line=self.lineno)]
        rows = []
        for entry in entries:
            first = [_term_ref(env, entry, lang)]
            if lang == "ja":
                first.append(nodes.Text(f"（{entry.reading}）"))
            other = entry.other_term(lang) + (f" ({entry.reading})" if lang == "en" else "")
            rows.append([first, other, entry.easy_ja])
        table = simple_table(list(_LABELS[lang]["head"]), rows, [30, 30, 40], ["coordkit-glossary-terms"])
        return [table]


def setup(app: Sphinx) -> dict:
    app.add_config_value("coordkit_glossary_path", DEFAULT_PATH, "env")
    app.add_directive("bilingual-glossary", BilingualGlossary)
    app.add_directive("glossary-terms", GlossaryTerms)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
