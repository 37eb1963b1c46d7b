"""A Sphinx extension: the one way facts reach book pages.

In MyST:  {fact}`residence.moving_days`       -> "14 days" (linked to the official source)
          {fact-text}`residence.moving_days`  -> the whole statement, with the value, linked
          ```{fact-sources}
          ```                                 -> every fact the page used: statement, source, kind,
                                                 date last verified
The language of the edition (`language:` in _config.yml / Sphinx `language`) picks en or ja text.
An unknown fact id is a build warning, so a build with warnings as errors stops on it.
"""

from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.application import Sphinx
from sphinx.util import logging

from .errors import CoordkitError
from .facts import FactRegistry, load_facts
from .sphinx_nodes import table as simple_table

logger = logging.getLogger(__name__)
_CACHE: dict[str, FactRegistry] = {}


class fact_sources_node(nodes.General, nodes.Element):
    """Placeholder replaced by the list of facts the page used."""


def _registry(app: Sphinx) -> FactRegistry:
    path = app.config.coordkit_facts_path or str(Path(app.confdir) / "datasets" / "facts.yml")
    if not Path(path).is_absolute():
        path = str(Path(app.confdir) / path)
    if path not in _CACHE:
        _CACHE[path] = load_facts(path)
    return _CACHE[path]


def _lang(app: Sphinx) -> str:
    return "ja" if (app.config.language or "en").startswith("ja") else "en"


def _make_role(full: bool):
    def role(name, rawtext, text, lineno, inliner, options=None, content=None):
        env = inliner.document.settings.env
        app = env.app
        fact_id = text.strip()
        try:
            fact = _registry(app)[fact_id]
        except CoordkitError as exc:
            msg = inliner.reporter.warning(str(exc), line=lineno)
            return [inliner.problematic(rawtext, rawtext, msg)], [msg]
        used = env.temp_data.setdefault("coordkit_facts_used", [])
        if fact_id not in used:
            used.append(fact_id)
        if not hasattr(env, "coordkit_facts_used"):
            env.coordkit_facts_used = {}
        env.coordkit_facts_used.setdefault(env.docname, [])
        if fact_id not in env.coordkit_facts_used[env.docname]:
            env.coordkit_facts_used[env.docname].append(fact_id)
        lang = _lang(app)
        if lang == "ja" and not full and fact.unit == "text" and fact.value_ja is None and re.search(
                r"[A-Za-z]{2,}", str(fact.value)):
            msg = inliner.reporter.warning(
                f"fact {fact_id!r} has no Japanese value: add value_ja to it in {fact_id and _registry(app).path}, "
                "or cite it with {fact-text}", line=lineno)
            return [inliner.problematic(rawtext, rawtext, msg)], [msg]
        label = fact.statement(lang) if full else fact.display(lang)
        ref = nodes.reference(rawtext, label, refuri=fact.source, classes=["coordkit-fact"],
                              reftitle=f"{fact.id} · verified {fact.verified.isoformat()}")
        return [ref], []
    return role


class FactSources(Directive):
    has_content = False

    def run(self):
        return [fact_sources_node()]


class FactTable(Directive):
    """Every fact in the registry as a table (the reference page)."""
    has_content = False

    def run(self):
        env = self.state.document.settings.env
        app = env.app
        lang = _lang(app)
        registry = _registry(app)
        env.note_dependency(str(registry.path))
        rows = []
        for fact in registry:
            statement = [nodes.Text(fact.statement(lang))]
            if fact.note:
                statement.append(nodes.emphasis(text=" " + fact.caveat(lang)))
            rows.append([[nodes.literal(text=fact.id)], statement,
                         [nodes.reference("", fact.source_kind, refuri=fact.source)], fact.verified.isoformat()])
        table = simple_table(list(_HEAD[lang]), rows, [20, 50, 18, 12], ["coordkit-fact-table"])
        return [table]


_HEAD = {"en": ("Fact", "Statement", "Source", "Verified"), "ja": ("事実", "内容", "出典", "確認日")}


def _resolve(app: Sphinx, doctree, docname: str) -> None:
    used = getattr(app.env, "coordkit_facts_used", {}).get(docname, [])
    registry = _registry(app) if used else None
    if used:   # official pages first, then municipal, third-party and press; stable within a kind
        order = ["ISA", "official", "municipal", "3P", "NEWS"]
        used = sorted(used, key=lambda i: order.index(registry[i].source_kind))
    lang = _lang(app)
    for node in doctree.findall(fact_sources_node):
        if not used:
            node.replace_self(nodes.paragraph(text="(no facts on this page)" if lang == "en" else "（このページに事実の引用はありません）"))
            continue
        bullets = nodes.bullet_list(classes=["coordkit-fact-sources"])
        for fact_id in used:
            fact = registry[fact_id]
            para = nodes.paragraph()
            para += nodes.Text(fact.statement(lang) + " ")
            para += nodes.reference("", fact.source, refuri=fact.source)
            verified = "verified" if lang == "en" else "確認日"
            para += nodes.Text(f" [{fact.source_kind}; {verified} {fact.verified.isoformat()}]")
            if fact.note:
                para += nodes.emphasis(text=" " + fact.caveat(lang))
            bullets += nodes.list_item("", para)
        node.replace_self(bullets)


_QUOTED_ID = re.compile(r"""["']([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)["']""")


def _code_cell_facts(app: Sphinx, docname: str, source: list[str]) -> None:
    """Facts that code cells read from the registry (e.g. F["pension.lump_sum_claim_years"]) are
    cited too, so the page's sources block lists them."""
    text = source[0]
    if "page_facts" not in text:
        return
    registry = _registry(app)
    env = app.env
    if not hasattr(env, "coordkit_facts_used"):
        env.coordkit_facts_used = {}
    used = env.coordkit_facts_used.setdefault(docname, [])
    for fact_id in _QUOTED_ID.findall(text):
        if fact_id in registry and fact_id not in used:
            used.append(fact_id)


def _purge(app, env, docname):
    if hasattr(env, "coordkit_facts_used"):
        env.coordkit_facts_used.pop(docname, None)


def _merge(app, env, docnames, other):
    if not hasattr(env, "coordkit_facts_used"):
        env.coordkit_facts_used = {}
    env.coordkit_facts_used.update(getattr(other, "coordkit_facts_used", {}))


def setup(app: Sphinx) -> dict:
    app.add_config_value("coordkit_facts_path", "", "env")
    app.add_role("fact", _make_role(full=False))
    app.add_role("fact-text", _make_role(full=True))
    app.add_node(fact_sources_node)
    app.add_directive("fact-sources", FactSources)
    app.add_directive("fact-table", FactTable)
    app.connect("doctree-resolved", _resolve)
    app.connect("source-read", _code_cell_facts)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 2}
