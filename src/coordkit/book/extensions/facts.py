"""A Sphinx extension: the one way facts reach book pages.

In MyST:  {fact}`residence.moving_days`       -> "14 days" (linked to the official source)
          {fact-text}`residence.moving_days`  -> the whole statement, with the value, linked
          {deadline}`residence.moving_days 2026-12-15` -> the deadline for that event, computed by
                                                 the fact's counting rule and closed days ("4 January
                                                 2027"); options: last, weekday, noyear
          ```{fact-sources}
          ```                                 -> every fact the page used: statement, source, kind,
                                                 and what it was checked against
The language of the edition (`language:` in _config.yml / Sphinx `language`) picks en or ja text.
An unknown fact id is a build warning, so a build with warnings as errors stops on it. A rule that
is not in force yet is shown with its expected start.

A fact edit reaches every page that cites it, and only those (incremental builds):

- each page records the facts it cites (roles, and quoted ids in code cells that read the registry
  through `page_facts()`) and a digest of their current entries; on the next build `env-get-outdated`
  sends back to be read again every page whose cited facts changed, in either edition;
- a page that executes code gets a hidden last cell carrying that digest, so the execution cache
  (jupyter-cache hashes the code cells) misses exactly when a cited fact changed and the page is
  executed again; pages that cite nothing that changed keep their cached outputs.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.application import Sphinx
from sphinx.util import logging

from ...content.facts import FactRegistry, load_facts, used_fact_ids
from ...errors import CoordkitError
from .nodes import table as simple_table

logger = logging.getLogger(__name__)
_CACHE: dict[str, tuple[float, FactRegistry]] = {}
ALL = "*"          # a page that reads the registry without naming its facts depends on all of them


class fact_sources_node(nodes.General, nodes.Element):
    """Placeholder replaced by the list of facts the page used."""


def _registry(app: Sphinx) -> FactRegistry:
    path = app.config.coordkit_facts_path or str(Path(app.confdir) / "datasets" / "facts.yml")
    if not Path(path).is_absolute():
        path = str(Path(app.confdir) / path)
    mtime = Path(path).stat().st_mtime if Path(path).is_file() else 0.0
    if path not in _CACHE or _CACHE[path][0] != mtime:       # reloaded when the file changes
        _CACHE[path] = (mtime, load_facts(path))
    return _CACHE[path][1]


def facts_digest(registry: FactRegistry, ids) -> str:
    """A digest of the current entries of the facts `ids` (or of all facts, for ALL): it changes
    exactly when one of them is edited, added or removed."""
    chosen = sorted(registry.facts) if ids == ALL else sorted(ids)
    text = "\n".join(f"{i}={registry.facts.get(i)!r}" for i in chosen)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


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
        _note_use(env, fact_id)
        lang = _lang(app)
        if lang == "ja" and not full and fact.unit == "text" and fact.value_ja is None and re.search(
                r"[A-Za-z]{2,}", str(fact.value)):
            msg = inliner.reporter.warning(
                f"fact {fact_id!r} has no Japanese value: add value_ja to it in {fact_id and _registry(app).path}, "
                "or cite it with {fact-text}", line=lineno)
            return [inliner.problematic(rawtext, rawtext, msg)], [msg]
        label = (fact.statement(lang) if full else fact.display(lang)) + fact.pending_label(lang)
        ref = nodes.reference(rawtext, label, refuri=fact.source, classes=["coordkit-fact"],
                              reftitle=f"{fact.id} · {fact.status(lang)}")
        return [ref], []
    return role


def _note_use(env, fact_id: str) -> None:
    used = env.temp_data.setdefault("coordkit_facts_used", [])
    if fact_id not in used:
        used.append(fact_id)
    if not hasattr(env, "coordkit_facts_used"):
        env.coordkit_facts_used = {}
    env.coordkit_facts_used.setdefault(env.docname, [])
    if fact_id not in env.coordkit_facts_used[env.docname]:
        env.coordkit_facts_used[env.docname].append(fact_id)


def _deadline_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """{deadline}`<fact id> <event YYYY-MM-DD> [last] [weekday] [noyear]`: a worked-example date that
    follows the registry (see coordkit.book.deadline_text)."""
    from ..build import deadline_text

    env = inliner.document.settings.env
    try:
        fact, label = deadline_text(_registry(env.app), text, lang=_lang(env.app), where=env.docname)
    except CoordkitError as exc:
        msg = inliner.reporter.warning(str(exc), line=lineno)
        return [inliner.problematic(rawtext, rawtext, msg)], [msg]
    _note_use(env, fact.id)
    ref = nodes.reference(rawtext, label, refuri=fact.source, classes=["coordkit-fact", "coordkit-deadline"],
                          reftitle=f"{fact.id} · {fact.counting_text(_lang(env.app))}")
    return [ref], []


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
            statement = [nodes.Text(fact.statement(lang) + fact.pending_label(lang))]
            if fact.period:
                statement.append(nodes.Text(f" [{fact.counting_text(lang)}]"))
            if fact.note:
                statement.append(nodes.emphasis(text=" " + fact.caveat(lang)))
            rows.append([[nodes.literal(text=fact.id)], statement,
                         [nodes.reference("", fact.source_kind, refuri=fact.source)], fact.status(lang)])
        table = simple_table(list(_HEAD[lang]), rows, [18, 47, 10, 25], ["coordkit-fact-table"])
        return [table]


_HEAD = {"en": ("Fact", "Statement", "Source", "What was checked"), "ja": ("事実", "内容", "出典", "確認の内容")}


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
            para += nodes.Text(fact.statement(lang) + fact.pending_label(lang) + " ")
            para += nodes.reference("", fact.source, refuri=fact.source)
            para += nodes.Text(f" [{fact.source_kind}; {fact.status(lang)}]")
            if fact.note:
                para += nodes.emphasis(text=" " + fact.caveat(lang))
            bullets += nodes.list_item("", para)
        node.replace_self(bullets)


_DEADLINE = re.compile(r"\{deadline\}`\s*([^`\s]+)")


def deadline_ids(text: str) -> set[str]:
    """Fact ids cited by {deadline} roles."""
    return set(_DEADLINE.findall(text))


_QUOTED_ID = re.compile(r"""["']([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)["']""")


def _is_notebook(text: str) -> bool:
    """A MyST notebook page (jupytext header with a kernel): its code cells are executed."""
    head = text.lstrip()[:600]
    return head.startswith("---") and "kernelspec:" in head


def _cited(app: Sphinx, text: str):
    """The facts a page's text cites: role ids, plus quoted ids in code cells that read the registry
    (ALL when the code reads it without naming any)."""
    registry = _registry(app)
    ids = set(used_fact_ids([text])) | deadline_ids(text)
    if "page_facts" in text:
        quoted = {i for i in _QUOTED_ID.findall(text) if i in registry}
        if not quoted:
            return ALL
        ids |= quoted
    return ids


_DIGEST_CELL = "\n\n```{{code-cell}} ipython3\n:tags: [remove-cell]\n\n# coordkit: digest of the facts this page cites: {digest}\n```\n"


def _read_facts(app: Sphinx, docname: str, source: list[str]) -> None:
    """On reading a page: list the facts its code cells read (so the sources block shows them),
    record what the page cites and the digest of those facts, and give a notebook page a hidden
    cell with the digest so that its execution cache follows the facts."""
    text = source[0]
    env = app.env
    for name in ("coordkit_facts_used", "coordkit_fact_ids", "coordkit_fact_digest"):
        if not hasattr(env, name):
            setattr(env, name, {})
    if "{fact" not in text and "{deadline}" not in text and "page_facts" not in text:
        env.coordkit_fact_ids.pop(docname, None)
        env.coordkit_fact_digest.pop(docname, None)
        return
    registry = _registry(app)
    if "page_facts" in text:
        used = env.coordkit_facts_used.setdefault(docname, [])
        for fact_id in _QUOTED_ID.findall(text):
            if fact_id in registry and fact_id not in used:
                used.append(fact_id)
    ids = _cited(app, text)
    digest = facts_digest(registry, ids)
    env.coordkit_fact_ids[docname] = ids
    env.coordkit_fact_digest[docname] = digest
    if _is_notebook(text) and "page_facts" in text:
        source[0] = text.rstrip("\n") + _DIGEST_CELL.format(digest=digest)


def _outdated(app, env, added, changed, removed):
    """Pages whose cited facts changed since they were last read: read (and, if they run code,
    executed) again. Pages that cite no changed fact are left alone."""
    cited = getattr(env, "coordkit_fact_ids", {})
    if not cited:
        return []
    registry = _registry(app)
    stale = []
    for docname, ids in cited.items():
        if docname in removed or docname in changed or docname in added:
            continue
        if facts_digest(registry, ids) != env.coordkit_fact_digest.get(docname):
            stale.append(docname)
    if stale:
        logger.info(f"coordkit: facts changed; reading again {len(stale)} page(s) that cite them")
    return stale


def _purge(app, env, docname):
    for name in ("coordkit_facts_used", "coordkit_fact_ids", "coordkit_fact_digest"):
        if hasattr(env, name):
            getattr(env, name).pop(docname, None)


def _merge(app, env, docnames, other):
    for name in ("coordkit_facts_used", "coordkit_fact_ids", "coordkit_fact_digest"):
        if not hasattr(env, name):
            setattr(env, name, {})
        getattr(env, name).update({d: v for d, v in getattr(other, name, {}).items() if d in docnames})


def setup(app: Sphinx) -> dict:
    app.add_config_value("coordkit_facts_path", "", "env")
    app.add_role("fact", _make_role(full=False))
    app.add_role("fact-text", _make_role(full=True))
    app.add_role("deadline", _deadline_role)
    app.add_node(fact_sources_node)
    app.add_directive("fact-sources", FactSources)
    app.add_directive("fact-table", FactTable)
    app.connect("doctree-resolved", _resolve)
    app.connect("source-read", _read_facts)
    app.connect("env-get-outdated", _outdated)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 3}
