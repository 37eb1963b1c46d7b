"""The trainee's feedback page: what coordkit's feedback template (templates/coordkit_feedback/) needs
beyond nbgrader's GetGrades, and regenerating feedback only where the marks changed.

- `FeedbackLabels` (a GenerateFeedback preprocessor, set in assignments/nbgrader_config.py) gives each
  graded cell the question it belongs to as its label (from the locked `<id>_prompt` cell of the
  course's notebook: "問7 この相談に含まれる課題を… / Question 7 Break the consultation…"), turns a
  written answer's final mark (nbgrader's comment, written by `marking.publish.feedback_text`) into
  criteria, levels, descriptors and the marker's comment, and stamps the page with a digest of the
  submission's marks.
- `refresh_feedback` compares that stamp with the gradebook and regenerates, with nbgrader's own
  GenerateFeedback, only the submissions whose marks changed.

Nothing here reads what the trainee wrote except to show it: labels and rubric texts come from the
course's cells (nbgrader restores locked cells) and the gradebook."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import pass_context, pass_environment
from nbconvert.exporters import HTMLExporter
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

TEMPLATE_DIR = Path(__file__).parent / "templates"
TEMPLATE_NAME = "coordkit_feedback"
TEMPLATE_FILE = "feedback_page.html.j2"    # not index.html.j2: it extends nbgrader's, found by that name
DIGEST_META = "coordkit-marks"

# the lines marking.publish.feedback_text writes (one criterion per 「・」 line, its English under it)
_CRITERION = re.compile(r"^・(?P<ja>.+): (?P<points>\d+(?:\.\d+)?) / (?P<max>\d+(?:\.\d+)?) 点 — (?P<level>.*)$")
_CRITERION_EN = re.compile(r"^  (?P<en>.+): (?P<points>\d+(?:\.\d+)?) / (?P<max>\d+(?:\.\d+)?) points — (?P<level>.*)$")
_COMMENT_HEAD = "講師のコメント / Marker's comment:"
_HEADING = re.compile(r"^#+\s*問(?P<n>\d+)[^/]*/\s*Question\s*(?P<en>\d+)")


def nbgrader_template_dir() -> str:
    """nbgrader's own template folder (its `feedback` template, which ours extends)."""
    import nbgrader

    return str(Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates")


class FeedbackPageExporter(HTMLExporter):
    """nbconvert's HTMLExporter for feedback pages. It exists so that coordkit's template is set in its
    own configuration section: set on HTMLExporter itself, Formgrader (which renders submissions with
    an HTMLExporter and its `formgrade` template, reading the same nbgrader_config.py) would draw its
    grading page with the feedback template and fail."""


def configure(c) -> None:
    """The one place that makes nbgrader's feedback use coordkit's template (nbgrader_config.py calls
    it; `coordkit grade`, marking and plain `nbgrader generate_feedback` all read that file). Only
    GenerateFeedback's exporter is affected; Formgrader keeps its own template."""
    c.GenerateFeedback.exporter_class = f"{__name__}.FeedbackPageExporter"
    c.FeedbackPageExporter.template_name = TEMPLATE_NAME
    c.FeedbackPageExporter.template_file = TEMPLATE_FILE
    c.FeedbackPageExporter.extra_template_basedirs = [str(TEMPLATE_DIR), nbgrader_template_dir()]
    c.FeedbackPageExporter.filters = {"coordkit_markdown": f"{__name__}.cached_markdown",
                                      "coordkit_highlight": f"{__name__}.cached_highlight"}


# --- the page's two costly filters, remembered per process ------------------------------------------
# Most of a feedback page is the course's own text (prompts, locked code, rubrics), the same for every
# submission: a worker grading a cohort rendered each of those cells again (a new Markdown parser or
# pygments formatter per cell) for every trainee. These filters give the same HTML as nbconvert's
# `markdown2html` and `highlight_code` (which they call), remembered by everything that HTML depends
# on; a cell with attachments, or an exporter that embeds images (which reads files), is never
# remembered.

_RENDERED: dict[tuple, str] = {}
_RENDERED_MAX = 2048        # entries (the course's cells for a few assignments, and some answers)


def _remember(key: tuple, render):
    html = _RENDERED.get(key)
    if html is None:
        html = render()
        if len(_RENDERED) >= _RENDERED_MAX:
            _RENDERED.pop(next(iter(_RENDERED)))          # the oldest first
        _RENDERED[key] = html
    return html


@pass_context
def cached_markdown(context, source: str) -> str:
    """nbconvert's `markdown2html` of the exporter rendering the page, remembered (see above)."""
    render = context.environment.filters["markdown2html"]
    exporter = getattr(render, "__self__", None)
    cell = context.get("cell") or {}
    if exporter is None or cell.get("attachments") or getattr(exporter, "embed_images", True):
        return render(context, source)
    key = ("md", type(exporter).__name__, source, exporter.anchor_link_text, exporter.exclude_anchor_links,
           repr(sorted(exporter.lexer_options.items())))
    return _remember(key, lambda: render(context, source))


@pass_environment
def cached_highlight(environment, source: str, language: str | None = None, metadata=None) -> str:
    """nbconvert's `highlight_code` filter of the page (Highlight2HTML), remembered (see above)."""
    highlight = environment.filters["highlight_code"]
    lexer = getattr(highlight, "pygments_lexer", None)
    options = getattr(highlight, "extra_formatter_options", None)
    if lexer is None or options is None:
        return highlight(source, language, metadata)
    magics = (metadata or {}).get("magics_language")
    key = ("code", type(highlight).__name__, source, language, lexer, magics, repr(sorted(options.items())))
    return _remember(key, lambda: highlight(source, language, metadata))


def _first_sentence(text: str, limit: int) -> str:
    text = re.sub(r"[*_`#>]|\s+", lambda m: " " if m.group().isspace() else "", text).strip()
    cut = re.split(r"(?<=[。？?！!])|(?<=\.)\s", text, maxsplit=1)[0].strip()
    return cut if len(cut) <= limit else cut[:limit - 1].rstrip() + "…"


def question_label(prompt: str) -> tuple[str, str] | None:
    """("問7 この相談に含まれる課題を…", "Question 7 Break the consultation down…") from a prompt cell."""
    lines = [l.strip() for l in prompt.splitlines()]
    head = next((l for l in lines if l.startswith("#")), "")
    m = _HEADING.match(head)
    if not m:
        return None
    body = [l for l in lines if l and not l.startswith(("#", "|", "-", "```"))]
    en = next((l for l in body if l.startswith("*") and not l.startswith("**")), "")
    ja = next((l for l in body if not l.startswith("*")), "")
    return (f"問{m['n']} {_first_sentence(ja, 32)}".strip(), f"Question {m['en']} {_first_sentence(en, 64)}".strip())


def parse_feedback_text(text: str | None) -> dict | None:
    """The criteria and the comment of a comment written by marking.publish.feedback_text; None if the
    comment is not in that form (written by hand in Formgrader: shown as it is)."""
    if not text:
        return None
    criteria, comment, rest = [], [], False
    for line in text.splitlines():
        if rest:
            comment.append(line)
        elif (m := _CRITERION.match(line)):
            criteria.append({"ja": m["ja"], "en": "", "points": float(m["points"]), "max": float(m["max"]),
                             "level_ja": m["level"], "level_en": ""})
        elif (m := _CRITERION_EN.match(line)) and criteria:
            criteria[-1].update(en=m["en"], level_en=m["level"])
        elif line.strip() == _COMMENT_HEAD:
            rest = True
        elif line.strip():
            return None
    if not criteria:
        return None
    return {"criteria": criteria, "comment": "\n".join(comment).strip()}


def marks_digest(rows) -> str:
    """A digest of what the feedback shows of a submission's marks: (grade_id, score, needs marking,
    comment) per cell, in any order."""
    canon = sorted((str(g), None if s is None else round(float(s), 4), bool(n), c or "") for g, s, n, c in rows)
    return hashlib.sha256(json.dumps(canon, ensure_ascii=False).encode()).hexdigest()[:16]


def _submission_marks(db_url: str, assignment: str, students: list[str] | None = None) -> dict:
    """(student, notebook) -> [(grade_id, score, needs_manual_grade, comment)] from nbgrader's tables,
    in one query for the assignment."""
    from nbgrader.api import (Assignment, Comment, Grade, GradeCell, Notebook, SolutionCell, Student,
                              SubmittedAssignment, SubmittedNotebook)
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    out: dict[tuple[str, str], list] = {}
    with Session(sa.create_engine(db_url)) as session:
        base = (lambda model: session.query(model, Student.id, Notebook.name)
                .join(SubmittedNotebook, SubmittedNotebook.id == model.notebook_id)
                .join(Notebook, Notebook.id == SubmittedNotebook.notebook_id)
                .join(SubmittedAssignment, SubmittedAssignment.id == SubmittedNotebook.assignment_id)
                .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
                .join(Student, Student.id == SubmittedAssignment.student_id)
                .filter(Assignment.name == assignment, *([Student.id.in_(students)] if students else [])))
        comments = {}
        for row in base(Comment).join(SolutionCell, SolutionCell.id == Comment.cell_id).add_columns(SolutionCell.name):
            comment, student, notebook, name = row
            comments[(student, notebook, name)] = comment.comment
        for row in base(Grade).join(GradeCell, GradeCell.id == Grade.cell_id).add_columns(GradeCell.name):
            grade, student, notebook, name = row
            out.setdefault((student, notebook), []).append(
                (name, grade.score, grade.needs_manual_grade, comments.get((student, notebook, name))))
    return out


class FeedbackLabels(Preprocessor):
    """Labels, per-criterion marks and the marks digest for coordkit's feedback template."""

    enabled = Bool(True).tag(config=True)   # nbgrader registers plug-ins without enabling them

    def preprocess(self, nb, resources):
        prompts = {}
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            gid = meta.get("grade_id", "") if isinstance(meta, dict) else ""
            if cell.cell_type == "markdown" and gid.endswith("_prompt") and meta.get("locked"):
                label = question_label(cell.source)
                if label:
                    prompts[gid[:-len("_prompt")]] = label
        rows = []
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader")
            if not isinstance(meta, dict) or not meta.get("grade_id"):
                continue
            gid = meta["grade_id"]
            base = gid[:-len("_answer")] if gid.endswith("_answer") else gid
            extra = cell.metadata.setdefault("coordkit", {})
            if base in prompts:
                extra["label_ja"], extra["label_en"] = prompts[base]
            if meta.get("grade"):
                if meta.get("solution") and not meta.get("awaiting_marking"):
                    marks = parse_feedback_text(meta.get("comment"))
                    if marks:
                        extra["marks"] = marks
                rows.append((gid, None if meta.get("awaiting_marking") else meta.get("score"),
                             bool(meta.get("awaiting_marking")), meta.get("comment")))
        info = resources.setdefault("nbgrader", {})
        info["marks_digest"] = marks_digest(rows) if rows else ""
        return nb, resources


@dataclass
class FeedbackRefresh:
    """What `refresh_feedback` found and did for one assignment."""
    assignment: str
    regenerated: list[str] = field(default_factory=list)      # students whose feedback was rewritten
    unchanged: list[str] = field(default_factory=list)
    seconds: float = 0.0


# nbconvert's stock HTMLExporter re-serialises the page (attributes sorted): either order is read
_STAMP = re.compile(r'<meta (?:name="' + DIGEST_META + r'" content="([0-9a-f]*)"|content="([0-9a-f]*)" name="'
                    + DIGEST_META + '")')


def _stamp_of(path: Path) -> str | None:
    try:
        with path.open(encoding="utf-8") as fh:
            m = _STAMP.search(fh.read(4096))
    except OSError:
        return None
    return (m.group(1) or m.group(2) or "") if m else None


def stale_feedback(assignment: str, *, settings, students: list[str] | None = None) -> list[str]:
    """The students of `assignment` whose feedback does not show their marks in the gradebook (marks
    changed since, or no feedback yet)."""
    root = Path(settings.course_root)
    stale = set()
    for (student, notebook), rows in _submission_marks(settings.db_url, assignment, students).items():
        if not (root / "autograded" / student / assignment / f"{notebook}.ipynb").is_file():
            continue
        page = root / "feedback" / student / assignment / f"{notebook}.html"
        if _stamp_of(page) != marks_digest([(g, None if n else s, n, c) for g, s, n, c in rows]):
            stale.add(student)
    return sorted(stale)


def refresh_feedback(assignment: str, *, settings, students: list[str] | None = None) -> FeedbackRefresh:
    """Regenerate, with nbgrader's GenerateFeedback (in this process, one run), the feedback of the
    submissions of `assignment` whose marks changed since their feedback was written."""
    import time

    from nbgrader.converters import GenerateFeedback
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log
    from traitlets.config import Config

    from ..course import load_nbgrader_config
    from ..errors import CoordkitError
    from .feedback import _feedback_exporter

    started = time.perf_counter()
    wanted = stale_feedback(assignment, settings=settings, students=students)
    result = FeedbackRefresh(assignment)
    everyone = sorted({s for s, _ in _submission_marks(settings.db_url, assignment, students)})
    result.unchanged = [s for s in everyone if s not in wanted]
    if wanted:
        cfg = load_nbgrader_config(Path(settings.course_root))
        over = Config()
        over.CourseDirectory.root = str(settings.course_root)
        over.CourseDirectory.db_url = settings.db_url
        over.CourseDirectory.assignment_id = assignment
        over.GenerateFeedback.exporter_class = _feedback_exporter()     # the exporter `coordkit grade` uses
        cfg.merge(over)
        coursedir = CourseDirectory(config=cfg)
        chosen = {coursedir.format_path(coursedir.autograded_directory, s, assignment) for s in wanted}

        class Only(GenerateFeedback):
            def init_notebooks(self):
                super().init_notebooks()
                self.assignments = {k: v for k, v in self.assignments.items() if k in chosen}

        app = Only(coursedir=coursedir, config=cfg)
        app.force = True
        ran = capture_log(app)
        if not ran["success"]:
            raise CoordkitError(f"feedback for {assignment} could not be regenerated: "
                                f"{(ran.get('error') or ran.get('log') or '').strip().splitlines()[-1:]}")
        result.regenerated = wanted
    result.seconds = time.perf_counter() - started
    return result


def refresh_marked_feedback(settings, *, assignment: str | None = None) -> list[FeedbackRefresh]:
    """`refresh_feedback` for `assignment`, or for every assignment of the course with answers allocated
    for marking (what `coordkit mark feedback` runs after a marking session or a workbook import)."""
    import sqlalchemy as sa

    from ..marking.store import _course, allocation_table, engine

    if assignment:
        assignments = [assignment]
    else:
        with engine(settings).connect() as conn:
            assignments = sorted(conn.execute(sa.select(allocation_table.c.assignment).distinct().where(
                allocation_table.c.course_id == _course(settings))).scalars())
    return [refresh_feedback(a, settings=settings) for a in assignments]
