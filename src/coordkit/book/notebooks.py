"""The module pages as notebooks a trainee opens in their own JupyterLab (`coordkit book notebooks`).

A book page is a MyST notebook that only the book build can read: its `{fact}` roles are resolved by
the Sphinx extension and its self-check reads the facts registry from the coordkit checkout. The
export turns each module page of both editions into an .ipynb that needs only the installed package:

- `{fact}` / `{fact-text}` become the fact's text in the page's language, linked to its official
  source; `{term}`, `{ref}` and `{doc}` become their text (a page reference becomes the page's title);
  the book's directives become plain Markdown (admonitions and dropdowns as quotations, the list of
  sources from the registry);
- the facts the page's code reads are embedded in a collapsed cell before the first code cell, and
  `page_facts()` becomes `page_facts(COORDKIT_FACTS)`, so no pyproject.toml and no datasets/ are needed.

Nothing is added that the web page does not show: the self-check's answers are in the page on purpose
(see coordkit.book.selfcheck); no item bank, rubric or model answer is read."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..content.facts import FactRegistry, load_facts, used_fact_ids
from ..errors import CoordkitError, OutputError

EDITIONS = {"en": "book/modules", "ja": "book/ja/modules"}
FACTS_NAME = "COORDKIT_FACTS"
_ROLE = re.compile(r"\{(fact-text|fact|deadline|term|ref|doc|numref|abbr)\}`([^`]*)`")
_LABEL_LINE = re.compile(r"^\(([A-Za-z0-9_.-]+)\)=\s*$", re.M)
_QUOTED_ID = re.compile(r"""["']([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)["']""")
_FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[a-z-]+)\}[ \t]*(?P<arg>.*)$")
_HEADING = re.compile(r"^#\s+(.+)$", re.M)
_NOTE = {
    "en": ("*Exported from the web book for JupyterLab on {date}. Facts as in the registry that day; "
           "the web book always has the current ones. Run the cells from the top (Run ▸ Run All Cells) "
           "to use the self-check.*"),
    "ja": ("*この notebook は {date} に Web 版の本書から JupyterLab 用に書き出したものです。事実（期限・金額など）は"
           "その日の登録簿のとおりで、最新の内容は Web 版で確認してください。自己確認を使うには、上からセルを"
           "実行してください（Run ▸ Run All Cells）。*"),
}
_SOURCES_HEAD = {"en": "Facts cited on this page:", "ja": "このページで引用した事実："}


class NotebookExportError(CoordkitError):
    """A page that cannot be exported (names the page and the fix)."""


@dataclass(frozen=True)
class ExportResult:
    out_dir: Path
    notebooks: tuple[Path, ...]
    facts_embedded: dict[str, int] = field(default_factory=dict)   # notebook name -> facts embedded

    def to_dict(self) -> dict:
        return {"out": str(self.out_dir), "notebooks": [str(p) for p in self.notebooks],
                "facts_embedded": dict(self.facts_embedded)}


def page_titles(root: Path, lang: str) -> dict[str, str]:
    """label -> page title, for the pages of one edition (so a `{ref}` reads as the page's title)."""
    base = root / "book"
    pages = sorted((base / "ja").rglob("*.md")) if lang == "ja" else sorted(
        p for p in base.rglob("*.md") if (base / "ja") not in p.parents)
    titles: dict[str, str] = {}
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for match in _LABEL_LINE.finditer(text):
            heading = _HEADING.search(text, match.end())
            if heading:
                titles.setdefault(match.group(1), heading.group(1).strip())
    return titles


def _fact_link(registry: FactRegistry, fact_id: str, *, full: bool, lang: str, page: Path) -> str:
    try:
        fact = registry[fact_id]
    except CoordkitError:
        raise NotebookExportError(f"{page}: unknown fact {fact_id!r}; fix the id or add it to "
                                  f"{registry.path}") from None
    text = (fact.statement(lang) if full else fact.display(lang)) + fact.pending_label(lang)
    return f"[{text}]({fact.source})"


def _role_text(kind: str, body: str, *, registry: FactRegistry, titles: dict[str, str], lang: str,
               page: Path) -> str:
    if kind in ("fact", "fact-text"):
        return _fact_link(registry, body.strip(), full=kind == "fact-text", lang=lang, page=page)
    if kind == "deadline":
        from .build import deadline_text

        fact, label = deadline_text(registry, body, lang=lang, where=str(page))
        return f"[{label}]({fact.source})"
    explicit = re.match(r"^(.*?)\s*<([^>]+)>$", body, re.S)
    if explicit:                                   # {ref}`text <label>`, {term}`text <entry>`
        return explicit.group(1)
    if kind in ("ref", "doc", "numref"):
        label = body.strip().rsplit("/", 1)[-1]
        title = titles.get(label, label)
        return title if lang == "ja" else f"*{title}*"     # Japanese pages write 科目「{ref}`x`」
    return body


def _sources_block(registry: FactRegistry, ids: list[str], lang: str) -> str:
    order = ["ISA", "official", "municipal", "3P", "NEWS"]
    ids = sorted(ids, key=lambda i: order.index(registry[i].source_kind) if registry[i].source_kind in order else 9)
    lines = [_SOURCES_HEAD[lang], ""]
    for fact_id in ids:
        fact = registry[fact_id]
        caveat = f" *{fact.caveat(lang)}*" if fact.note else ""
        lines.append(f"- {fact.statement(lang)}{fact.pending_label(lang)} <{fact.source}> "
                     f"[{fact.source_kind}; {fact.status(lang)}]{caveat}")
    return "\n".join(lines)


def _directives(text: str, *, cited: list[str], registry: FactRegistry, lang: str) -> str:
    """Replace the book's fenced directives in one Markdown cell by plain Markdown."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            out.append(lines[i])
            i += 1
            continue
        fence, name, arg = match.group("fence"), match.group("name"), match.group("arg").strip()
        j = i + 1
        body: list[str] = []
        while j < len(lines) and lines[j].strip() != fence:
            body.append(lines[j])
            j += 1
        i = j + 1
        folded = any(re.match(r"^:class:.*\bdropdown\b", b) for b in body)
        body = [b for b in body if not re.match(r"^:[a-z-]+:", b)]     # directive options
        inner = _directives("\n".join(body), cited=cited, registry=registry, lang=lang).strip("\n")
        if name == "fact-sources":
            out.append(_sources_block(registry, cited, lang) if cited else "")
        elif name == "syllabus-unit":
            out.append(f"*{'シラバスの単元' if lang == 'ja' else 'Syllabus unit'}: {arg}*")
        elif name in ("curriculum-map", "glossary-terms", "bilingual-glossary", "fact-table"):
            out.append("*（この表は Web 版の本書にあります）*" if lang == "ja" else "*(This table is in the web book.)*")
        elif name in ("code-block", "code", "sourcecode"):
            out += [f"```{arg}", inner, "```"]
        elif folded or name in ("dropdown", "toggle"):   # folded in the web book: folded here too
            out += ["<details>", f"<summary>{arg or '…'}</summary>", "", inner, "", "</details>"]
        else:                                      # admonition, note, warning, tip ...
            title = arg or name.capitalize()
            out.append(f"> **{title}**")
            out.append(">")
            out += [f"> {b}" if b else ">" for b in inner.split("\n")]
    return "\n".join(out)


def markdown_text(text: str, *, registry: FactRegistry, titles: dict[str, str], lang: str, page: Path,
                  cited: list[str]) -> str:
    """One Markdown cell of a page as plain Markdown: labels dropped, directives and roles resolved."""
    text = _LABEL_LINE.sub("", text)
    text = _directives(text, cited=cited, registry=registry, lang=lang)
    text = _ROLE.sub(lambda m: _role_text(m.group(1), m.group(2), registry=registry, titles=titles,
                                          lang=lang, page=page), text)
    return text.strip("\n")


def _literal(text: str) -> str:
    """A Python literal for `text`: a readable raw block string when that is exact, else repr."""
    if "'''" not in text and not text.endswith("\\") and "\\" not in text:
        return "r'''\n" + text + "'''"
    return repr(text)


def embedded_facts(registry: FactRegistry, ids) -> str:
    """The registry entries of `ids`, as the YAML text `page_facts` reads (same schema as facts.yml)."""
    import yaml

    raw = yaml.safe_load(registry.path.read_text(encoding="utf-8"))
    wanted = set(ids)
    entries = [e for e in raw["facts"] if e.get("id") in wanted]
    return yaml.safe_dump({"facts": entries}, allow_unicode=True, sort_keys=False, width=100)


def export_page(page: Path, *, registry: FactRegistry, titles: dict[str, str], lang: str, today: str):
    """One book page as a notebook (nbformat.NotebookNode) and the number of facts embedded in it."""
    import jupytext
    import nbformat

    text = page.read_text(encoding="utf-8")
    nb = jupytext.reads(text, fmt="md:myst")
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    cited: list[str] = []
    for fact_id in [*re.findall(r"\{(?:fact|fact-text|deadline)\}`\s*([^`\s]*)", text), *_QUOTED_ID.findall(code)]:
        if fact_id.strip() in registry and fact_id.strip() not in cited:
            cited.append(fact_id.strip())
    code_ids = set(_QUOTED_ID.findall(code)) & set(registry.facts)
    if "page_facts" in code and not code_ids:          # reads the registry without naming facts
        code_ids = set(registry.facts)
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            source = markdown_text(cell.source, registry=registry, titles=titles, lang=lang, page=page, cited=cited)
            if source.strip():
                cells.append(nbformat.v4.new_markdown_cell(source))
        elif cell.cell_type == "code":
            source = cell.source
            if "page_facts()" in source:
                if not any("page_facts" in c.source for c in cells if c.cell_type == "code"):
                    head = ("# このページが使う事実（datasets/facts.yml から書き出し）" if lang == "ja"
                            else "# The facts this page uses, copied from datasets/facts.yml")
                    facts_cell = nbformat.v4.new_code_cell(f"{head}\n{FACTS_NAME} = {_literal(embedded_facts(registry, code_ids))}")
                    facts_cell.metadata["jupyter"] = {"source_hidden": True}
                    facts_cell.metadata["tags"] = ["coordkit-facts"]
                    cells.append(facts_cell)
                source = source.replace("page_facts()", f"page_facts({FACTS_NAME})")
            new = nbformat.v4.new_code_cell(source)
            tags = [t for t in cell.metadata.get("tags", []) if t not in ("remove-input", "remove-cell", "hide-input")]
            if tags:
                new.metadata["tags"] = tags
            cells.append(new)
    if cells and cells[0].cell_type == "markdown":
        cells.insert(1, nbformat.v4.new_markdown_cell(_NOTE[lang].format(date=today)))
    out = nbformat.v4.new_notebook(cells=cells)
    out.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    out.metadata["language_info"] = {"name": "python"}
    for n, cell in enumerate(out.cells):        # stable ids: exporting an unchanged page changes nothing
        cell["id"] = f"{page.stem.replace('_', '-')}-{n}"
    return out, len(code_ids) if "page_facts" in code else 0


def export_notebooks(root: Path, *, out_dir: Path, facts_path: Path | None = None,
                     editions: tuple[str, ...] = ("ja", "en"), pages: tuple[str, ...] | None = None,
                     today: str | None = None) -> ExportResult:
    """Write <out_dir>/<edition>/<page>.ipynb for every module page (or only `pages`, by file stem).
    Raises NotebookExportError for an unknown edition, page or fact, OutputError when out_dir cannot
    be written."""
    import datetime as dt

    import nbformat

    root = Path(root)
    registry = load_facts(facts_path or root / "datasets" / "facts.yml")
    today = today or dt.date.today().isoformat()
    written: list[Path] = []
    embedded: dict[str, int] = {}
    for lang in editions:
        if lang not in EDITIONS:
            raise NotebookExportError(f"edition {lang!r} is unknown; use one of {', '.join(EDITIONS)}")
        folder = root / EDITIONS[lang]
        sources = sorted(folder.glob("*.md"))
        if pages:
            missing = [p for p in pages if not (folder / f"{p}.md").is_file()]
            if missing:
                raise NotebookExportError(f"no module page {missing[0]!r} in {folder}; use a file stem "
                                          f"such as {sources[0].stem if sources else 'residence_card'}")
            sources = [folder / f"{p}.md" for p in pages]
        titles = page_titles(root, lang)
        for page in sources:
            nb, count = export_page(page, registry=registry, titles=titles, lang=lang, today=today)
            target = Path(out_dir) / lang / f"{page.stem}.ipynb"
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
            except OSError as exc:
                raise OutputError(f"cannot write {target} ({exc.strerror}); choose another --out folder") from None
            written.append(target)
            embedded[f"{lang}/{page.stem}"] = count
    return ExportResult(out_dir=Path(out_dir), notebooks=tuple(written), facts_embedded=embedded)


__all__ = ["ExportResult", "NotebookExportError", "export_notebooks", "export_page", "markdown_text",
           "embedded_facts", "page_titles", "used_fact_ids"]
