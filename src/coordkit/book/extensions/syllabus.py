"""A Sphinx extension: the official syllabus (book/syllabus.yml) in the book.

In MyST:  ```{curriculum-map}
          :show: all            (or: units, competencies)
          ```                   -> the competencies C1-C4, then one table per stage: unit code,
                                   subject, group, study time (marked where it is an assumption),
                                   competencies, links to the pages that teach it, and the stage's
                                   assumptions
          ```{syllabus-unit} TP1-B2
          ```                   -> the box at the top of a module page: subject, stage and group,
                                   competencies, study time, source document, assumptions

Everything shown comes from syllabus.yml (a duration given as a fact comes from datasets/facts.yml
through the `fact` role, so it is listed in the page's sources). An unknown unit code, a page that
shows a unit it is not listed under, or a unit page that is not in the book is a build warning, so a
build with warnings as errors stops on it. The edition's language (Sphinx `language`) picks en or ja.
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from ...content.syllabus import Syllabus, SyllabusError, Unit, load_syllabus
from .facts import _lang, _make_role
from .nodes import table

logger = logging.getLogger(__name__)

_T = {
    "en": {"code": "Unit", "subject": "Subject", "group": "Group", "time": "Study time",
           "pages": "Taught in", "ability": "Ability", "unit": "Syllabus unit", "stage": "Stage",
           "competencies": "Competencies", "source": "Source", "assumptions": "Not confirmed by ISA (assumptions)",
           "assumption": "(assumption)", "hours": "{} h", "ccode": "Code", "page": "{}, p. {}", "total": "{} in all",
           "group_of": "group {}"},
    "ja": {"code": "科目コード", "subject": "科目", "group": "群", "time": "学習時間",
           "pages": "学習するページ", "ability": "能力", "unit": "シラバス上の科目", "stage": "段階",
           "competencies": "能力", "source": "出典", "assumptions": "未確認の事項（本書の仮定）",
           "assumption": "（仮定）", "hours": "{}時間", "ccode": "記号", "page": "{}、{}ページ", "total": "合計{}",
           "group_of": "{}群"},
}


def _load(directive: SphinxDirective) -> Syllabus | None:
    configured = Path(directive.config.coordkit_syllabus_path)
    path = configured if configured.is_absolute() else Path(directive.env.app.confdir) / configured
    directive.env.note_dependency(str(path))
    try:
        return load_syllabus(path)
    except SyllabusError as exc:
        logger.warning(str(exc), location=directive.get_location())
        return None


def _assumed(lang: str) -> str:
    return ("" if lang == "ja" else " ") + _T[lang]["assumption"]


def _hours(value: float, t: dict) -> str:
    return t["hours"].format(int(value) if float(value).is_integer() else round(value, 1))


def _study_time(directive: SphinxDirective, unit: Unit, lang: str) -> list[nodes.Node]:
    t = _T[lang]
    if unit.hours is not None:
        out: list[nodes.Node] = [nodes.Text(_hours(unit.hours, t))]
    elif unit.duration is not None:
        out = [nodes.Text(unit.duration.get(lang))]
    elif unit.duration_fact:
        role = _make_role(full=False)
        text = f"{{fact}}`{unit.duration_fact}`"
        # the facts extension's own role: same rendering, and the fact is listed in the page's sources
        out = list(role("fact", text, unit.duration_fact, directive.lineno, directive.state.inliner)[0])
    else:
        return [nodes.Text("—")]
    if unit.assumed_hours:
        out.append(nodes.emphasis(text=_assumed(lang)))
    return out


def _page_links(directive: SphinxDirective, unit: Unit) -> list[nodes.Node]:
    """One link per teaching page (title of the page), or a warning if the page is not in the book."""
    env = directive.env
    out: list[nodes.Node] = []
    for stem in unit.pages:
        if out:
            out.append(nodes.Text("; "))
        docs = sorted(d for d in env.found_docs if d.rsplit("/", 1)[-1] == stem)
        if len(docs) != 1:
            problem = "is not in the book (add it to _toc.yml)" if not docs else f"is ambiguous ({', '.join(docs)})"
            logger.warning(f"{unit.code}: page {stem!r} of book/syllabus.yml {problem}",
                           location=directive.get_location())
            out.append(nodes.literal(text=stem))
            continue
        out.append(addnodes.pending_xref("", nodes.inline(text=stem), refdomain="std", reftype="doc",
                                         reftarget="/" + docs[0], refexplicit=False, refwarn=True,
                                         refdoc=env.docname))
    return out


def _source(syllabus: Syllabus, unit: Unit, lang: str) -> nodes.reference:
    title = syllabus.document_title(unit.source, lang)
    if unit.source_page is not None:
        title = _T[lang]["page"].format(title, unit.source_page)
    return nodes.reference("", title, refuri=unit.source)


def _subject(unit: Unit, lang: str) -> str:
    return unit.name_ja if lang == "ja" else f"{unit.name_en} / {unit.name_ja}"


def _bullets(texts: list[str]) -> nodes.bullet_list:
    items = nodes.bullet_list()
    for text in texts:
        items += nodes.list_item("", nodes.paragraph(text=text))
    return items


def _assumptions_by_text(units: tuple[Unit, ...], lang: str) -> list[tuple[str, str]]:
    """Each distinct assumption of a stage once, with the units it applies to (a run of three or more
    consecutive units as 'first – last')."""
    where: dict[str, list[int]] = {}
    for i, unit in enumerate(units):
        for assumption in unit.assumptions:
            where.setdefault(assumption.get(lang), []).append(i)
    out = []
    for text, idx in where.items():
        if len(idx) >= 3 and idx == list(range(idx[0], idx[-1] + 1)):
            codes = f"{units[idx[0]].code} – {units[idx[-1]].code}"
        else:
            codes = ", ".join(units[i].code for i in idx)
        out.append((text, codes))
    return out


class CurriculumMap(SphinxDirective):
    """The curriculum map: competencies and every unit, stage by stage, linked to its pages."""
    has_content = False
    option_spec = {"show": lambda arg: directives.choice(arg, ("all", "units", "competencies"))}

    def run(self) -> list[nodes.Node]:
        syllabus = _load(self)
        if syllabus is None:
            return []
        lang = _lang(self.env.app)
        t = _T[lang]
        show = self.options.get("show", "all")
        out: list[nodes.Node] = []
        if show in ("all", "competencies"):
            rows = [[c.code, c.name.get(lang)] if lang == "ja" else [c.code, f"{c.name.en} ({c.name.ja})"]
                    for c in syllabus.competencies.values()]
            out.append(table([t["ccode"], t["ability"]], rows, [10, 90], ["coordkit-competencies"]))
        if show in ("all", "units"):
            codes = list(syllabus.competencies)
            for stage in syllabus.stages.values():
                units = syllabus.in_stage(stage.code)
                if not units:
                    continue
                heading = stage.name.get(lang)
                total, assumed = syllabus.total_hours(stage.code)
                if total:
                    heading += " · " + t["total"].format(_hours(total, t))
                    if assumed:
                        heading += _assumed(lang)
                out.append(nodes.rubric(text=heading))
                rows = [[[nodes.strong(text=u.code)], [nodes.Text(_subject(u, lang) + " "), _source(syllabus, u, lang)],
                         u.group or "—", _study_time(self, u, lang),
                         *["●" if c in u.competencies else "" for c in codes], _page_links(self, u)]
                        for u in units]
                out.append(table([t["code"], t["subject"], t["group"], t["time"], *codes, t["pages"]], rows,
                                  [10, 36, 6, 10, *[4] * len(codes), 22], ["coordkit-curriculum-map"]))
                notes = _assumptions_by_text(units, lang)
                if notes:
                    para = nodes.paragraph()
                    para += nodes.emphasis(text=t["assumptions"])
                    out += [para, _bullets([f"{codes}: {text}" for text, codes in notes])]
        return out


class SyllabusUnit(SphinxDirective):
    """The unit box at the top of a teaching page; the page must be listed under the unit."""
    has_content = False
    required_arguments = 1
    optional_arguments = 0

    def run(self) -> list[nodes.Node]:
        syllabus = _load(self)
        if syllabus is None:
            return []
        code = self.arguments[0].strip()
        try:
            unit = syllabus[code]
        except SyllabusError as exc:
            logger.warning(str(exc), location=self.get_location())
            return []
        stem = self.env.docname.rsplit("/", 1)[-1]
        if stem not in unit.pages:
            logger.warning(f"page {stem!r} shows unit {code}, but book/syllabus.yml lists {code} under "
                           f"{', '.join(unit.pages)}; add {stem!r} to the unit's pages or fix the code",
                           location=self.get_location())
        lang = _lang(self.env.app)
        t = _T[lang]
        stage = syllabus.stages[unit.stage].name.get(lang)
        if unit.group:
            stage += " · " + t["group_of"].format(unit.group)
        comps = [syllabus.competencies[c] for c in unit.competencies]
        fields = [(t["subject"], [nodes.Text(_subject(unit, lang))]), (t["stage"], [nodes.Text(stage)])]
        if comps:
            fields.append((t["competencies"], [nodes.Text("; ".join(
                f"{c.code} {c.name.get(lang)}" for c in comps))]))
        if unit.hours_status != "not_applicable":
            fields.append((t["time"], _study_time(self, unit, lang)))
        fields.append((t["source"], [_source(syllabus, unit, lang)]))
        field_list = nodes.field_list()
        for name, body in fields:
            field_list += nodes.field("", nodes.field_name(text=name),
                                      nodes.field_body("", nodes.paragraph("", "", *body)))
        box = nodes.admonition(classes=["note", "coordkit-unit"])
        box += nodes.title(text=f"{t['unit']} {unit.code}")
        box += field_list
        if unit.assumptions:
            para = nodes.paragraph()
            para += nodes.emphasis(text=t["assumptions"])
            box += [para, _bullets([a.get(lang) for a in unit.assumptions])]
        return [box]


def setup(app: Sphinx) -> dict:
    app.add_config_value("coordkit_syllabus_path", "book/syllabus.yml", "env")
    app.add_directive("curriculum-map", CurriculumMap)
    app.add_directive("syllabus-unit", SyllabusUnit)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
