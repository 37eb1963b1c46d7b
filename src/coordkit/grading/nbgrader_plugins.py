"""nbgrader plug-ins, wired in assignments/nbgrader_config.py (autograde and feedback; coordkit.grading
adds its notes files and, for `--engine kernel`, the sandboxed kernel).

Autograde without running the trainee's code (LiteralExecute, in place of nbgrader's Execute): each
autograded answer is read from its answer cell as data (coordkit.checks.read_answer_cell), and the
assignment's test cells, taken from the gradebook (the course's own code, hidden tests included),
run against those values only, in a separate process (forked per notebook by a small helper that holds
nothing of any submission, and given only those literal values, with CPU, memory and time limits:
coordkit.grading.testproc.run_tests_apart), so the process that
writes the gradebook runs no test. The course's nbgrader_config.py puts LiteralExecute in place of
Execute, so plain `nbgrader autograde` and Formgrader's autograde button grade exactly as
`coordkit grade` does. The test cells' outputs it writes are what
nbgrader's SaveAutoGrades scores (an error scores 0; a number is partial credit; nothing is full
marks), so the gradebook, checksums and feedback stay nbgrader's. Anything else in an answer cell and
every cell the trainee added is not run and not scored: it is listed in a note on the cell (the
lecturer's view in Formgrader) and in the grading summary.

SanitizeSubmission (after nbgrader's OverwriteCells) removes from the submitted notebook everything a
browser could run when Formgrader or the feedback shows it: outputs, attachments, cell and notebook
metadata other than nbgrader's, raw cells (shown verbatim as HTML by nbconvert) and HTML in markdown
the trainee wrote (cleaned with nh3, an allow-list of inert tags). SanitizeOutputs does the same for
the outputs of the previous engine (`--engine kernel`), which still runs the notebook.

FeedbackRedaction runs when nbgrader generates feedback. Stock nbgrader copies hidden tests into the
feedback HTML (jupyter/nbgrader#917, #1363), and a failing hidden assert shows the expected answer in
its traceback. This preprocessor removes hidden-test and solution regions from every cell and
replaces the error output of a failed test with a neutral message; answer-format messages (which
never reveal the answer) are kept, without the traceback.

It also appends, after each manually graded answer, the rubric that answer was graded with: the
rubric block (between rubrics.BEGIN and rubrics.END) of the same cell in the assignment's source
notebook, which is the graders' mark scheme. Only that block is copied, never the model answer.
"""

from __future__ import annotations

import ast
import json
import os
import re
import uuid

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Int, Unicode

from ..content.rubrics import extract_markdown
from .testproc import FORMAT_ERRORS, _error_parts, _outcome, run_test, run_tests, run_tests_apart  # noqa: F401

_REGIONS = [
    (re.compile(r"^[ \t]*#+[ \t]*BEGIN HIDDEN TESTS.*?^[ \t]*#+[ \t]*END HIDDEN TESTS[^\n]*\n?", re.S | re.M),
     "# （非公開のテストは採点にのみ使われます / hidden tests are used for grading only）\n"),
    (re.compile(r"^[ \t]*#+[ \t]*BEGIN SOLUTION.*?^[ \t]*#+[ \t]*END SOLUTION[^\n]*\n?", re.S | re.M), ""),
    (re.compile(r"=== BEGIN MARK SCHEME ===.*?=== END MARK SCHEME ===", re.S), ""),
]
NOT_CORRECT = "答えが正しくありません。 / The answer is not correct."


def redact_source(source: str) -> str:
    for pattern, replacement in _REGIONS:
        source = pattern.sub(replacement, source)
    return source


NOTE = "coordkit"                      # output metadata key of the notes coordkit writes


def hidden_lines(source_path: str) -> set[str]:
    """Every line (stripped, 6 characters or more) inside a hidden-test or solution region of a
    source notebook: text that must never appear in feedback, by any route."""
    import nbformat

    return _hidden_lines(nbformat.read(source_path, as_version=4))


def _hidden_lines(nb) -> set[str]:
    found: set[str] = set()
    for cell in nb.cells:
        for pattern, _ in _REGIONS[:2]:
            for block in pattern.findall(cell.source):
                found.update(line.strip() for line in block.splitlines()[1:-1] if len(line.strip()) >= 6)
    return found


_SOURCE_FACTS: dict[tuple, tuple[frozenset, dict]] = {}


def _source_facts(source_path: str) -> tuple[frozenset, dict[str, str]]:
    """hidden_lines and source_rubrics of a source notebook, read once per process for as long as the
    file is unchanged (a worker grading a cohort, or Formgrader, reads the same source for every
    submission); keyed by the file's path, size and modification time."""
    import nbformat

    stat = os.stat(source_path)
    key = (os.path.realpath(source_path), stat.st_size, stat.st_mtime_ns)
    facts = _SOURCE_FACTS.get(key)
    if facts is None:
        nb = nbformat.read(source_path, as_version=4)
        facts = (frozenset(_hidden_lines(nb)), _source_rubrics(nb))
        if len(_SOURCE_FACTS) >= 64:
            _SOURCE_FACTS.clear()
        _SOURCE_FACTS[key] = facts
    return facts[0], dict(facts[1])


def _output_text(out) -> str:
    parts = [str(out.get(k, "")) for k in ("text", "ename", "evalue")]
    parts += [str(t) for t in out.get("traceback", []) or []]
    parts += [str(v) for v in (out.get("data") or {}).values()]
    return "\n".join(parts)


def redact_outputs(outputs: list, *, secret: set[str] = frozenset()) -> list:
    """What feedback keeps of a cell's outputs: coordkit's notes, a test's result (an error reduced to
    'not correct', or an answer-format message), a partial-credit number; never a stream (printed
    output of any code), a display, or any output holding hidden-test text."""
    cleaned = []
    for out in outputs:
        kind = out.get("output_type")
        if any(line in _output_text(out) for line in secret):
            out = {"output_type": "error", "ename": "不正解", "evalue": NOT_CORRECT, "traceback": [NOT_CORRECT]}
        elif kind == "error":
            if out.get("ename") in FORMAT_ERRORS:
                out["traceback"] = [f"{out['ename']}: {out.get('evalue', '')}"]
            else:
                out["ename"], out["evalue"], out["traceback"] = "不正解", NOT_CORRECT, [NOT_CORRECT]
        elif kind == "execute_result":
            out["data"] = {"text/plain": str((out.get("data") or {}).get("text/plain", ""))}
        elif kind == "display_data" and (out.get("metadata") or {}).get(NOTE):
            out["data"] = {"text/plain": str((out.get("data") or {}).get("text/plain", ""))}
        else:
            continue  # printed output, displays: not the course's
        cleaned.append(out)
    return cleaned


def _awaiting_marking(info: dict) -> set[str]:
    """The grade ids of a submission's answers that still await manual marking (empty if unknown)."""
    if not all(info.get(k) for k in ("db_url", "notebook", "assignment", "student")):
        return set()
    from nbgrader.api import Gradebook, MissingEntry

    try:
        with Gradebook(info["db_url"]) as gb:
            notebook = gb.find_submission_notebook(info["notebook"], info["assignment"], info["student"])
            return {g.cell.name for g in notebook.grades if g.needs_manual_grade}
    except MissingEntry:
        return set()


def note_output(text: str):
    """A note from the grader on a cell: plain text (escaped wherever it is shown)."""
    from nbformat.v4 import new_output

    return new_output("display_data", data={"text/plain": text}, metadata={NOTE: {"note": True}})


def _is_manual_answer(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade") and meta.get("solution")) and cell.get("cell_type") == "markdown"


def source_rubrics(source_path: str) -> dict[str, str]:
    """grade_id -> rendered rubric, for the manually graded cells of a source notebook."""
    import nbformat

    return _source_rubrics(nbformat.read(source_path, as_version=4))


def _source_rubrics(nb) -> dict[str, str]:
    found = {}
    for cell in nb.cells:
        block = extract_markdown(cell.source) if _is_manual_answer(cell) else None
        if block:
            found[cell.metadata["nbgrader"]["grade_id"]] = block
    return found


def append_rubrics(nb, rubrics: dict[str, str]):
    """A markdown cell with its rubric after each manually graded answer that has one."""
    import nbformat

    cells = []
    for cell in nb.cells:
        cells.append(cell)
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if _is_manual_answer(cell) and grade_id in rubrics:
            cells.append(nbformat.v4.new_markdown_cell(rubrics[grade_id],
                                                       metadata={"coordkit": {"rubric_for": grade_id}}))
    nb.cells = cells
    return nb


class FeedbackRedaction(Preprocessor):
    enabled = Bool(True).tag(config=True)   # nbgrader registers plug-ins without enabling them
    show_rubrics = Bool(True, help="Append each manual answer's rubric from the source notebook").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources.get("nbgrader", {})
        path, rubrics = None, {}
        self._secret = set()
        if info.get("assignment") and info.get("notebook"):
            from nbgrader.coursedir import CourseDirectory

            coursedir = CourseDirectory(config=self.config)
            path = os.path.join(coursedir.format_path(coursedir.source_directory, ".", info["assignment"]),
                                f"{info['notebook']}.ipynb")
            if os.path.isfile(path):
                self._secret, rubrics = _source_facts(path)
            else:
                self.log.warning("No source notebook %s: feedback without rubrics", path)
                path = None
        awaiting = _awaiting_marking(info)
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader")
            if isinstance(meta, dict) and meta.get("grade_id") in awaiting:
                meta["awaiting_marking"] = True          # the feedback says so instead of 0.0 (grading.py)
        nb, resources = super().preprocess(nb, resources)
        if self.show_rubrics and path:
            nb = append_rubrics(nb, rubrics)
        return nb, resources

    def preprocess_cell(self, cell, resources, index):
        cell.source = redact_source(cell.source)
        if cell.cell_type == "code":
            cell.outputs = redact_outputs(cell.get("outputs", []), secret=getattr(self, "_secret", set()))
        return cell, resources


# --- autograde: the submission as data ---------------------------------------------------------------

_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_HTML_LIKE = re.compile(r"<[A-Za-z!/?]|&#|javascript:|vbscript:|data:", re.I)
_INERT_TAGS = {"b", "i", "em", "strong", "u", "s", "br", "p", "ul", "ol", "li", "code", "pre", "sub", "sup",
               "blockquote", "table", "thead", "tbody", "tr", "th", "td", "hr", "h1", "h2", "h3", "h4", "h5",
               "h6", "span", "div", "ruby", "rt", "rp"}


def clean_markdown(text: str) -> str:
    """Markdown the trainee wrote, with any HTML reduced to inert tags without attributes (nh3), and
    link schemes other than http(s) and mailto removed. Text without HTML is returned unchanged."""
    if not _HTML_LIKE.search(text):
        return text
    import nh3

    text = nh3.clean(text, tags=_INERT_TAGS, attributes={}, url_schemes={"http", "https", "mailto"},
                     strip_comments=True)
    return re.sub(r"(?i)(javascript|vbscript|data)\s*:", r"\1 :", text)


def _source_cells(resources):
    """grade_id -> (cell_type, source) of the assignment's notebook in the gradebook, and the grade
    cells (grade_id -> (max_score, cell_type)) and solution cell ids: three plain queries on
    nbgrader's tables (what Gradebook.find_notebook and its relationships give, without loading
    every cell as an object). Raises nbgrader's MissingEntry if the notebook is not in the gradebook."""
    from nbgrader.api import (Assignment, BaseCell, Gradebook, GradeCell, MissingEntry, Notebook, SolutionCell,
                              SourceCell)
    from sqlalchemy import select

    info = resources["nbgrader"]
    notebook, assignment, base = Notebook.__table__, Assignment.__table__, BaseCell.__table__
    source, grade, solution = SourceCell.__table__, GradeCell.__table__, SolutionCell.__table__
    with Gradebook(info["db_url"]) as gb:
        db = gb.db
        nb_id = db.execute(select(notebook.c.id).join(assignment, notebook.c.assignment_id == assignment.c.id)
                           .where(notebook.c.name == info["notebook"], assignment.c.name == info["assignment"])
                           ).scalar()
        if nb_id is None:
            raise MissingEntry()
        sources = {name: (kind, text) for name, kind, text in db.execute(
            select(source.c.name, source.c.cell_type, source.c.source).where(source.c.notebook_id == nb_id))}
        grades = {name: (points, kind) for name, points, kind in db.execute(
            select(base.c.name, grade.c.max_score, grade.c.cell_type).join(base, base.c.id == grade.c.id)
            .where(base.c.notebook_id == nb_id))}
        solutions = set(db.execute(select(base.c.name).join(solution, solution.c.id == base.c.id)
                                   .where(base.c.notebook_id == nb_id)).scalars())
        db.rollback()
        return sources, grades, solutions


def _nbgrader(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


_PLAIN_TYPES = {"text/plain"}


class SanitizeSubmission(Preprocessor):
    """Nothing of the submission that a browser could run survives (see the module docstring).
    Runs after OverwriteCells: cells whose source is the course's own are left as they are. What it
    removed that could have been active (HTML, scripts, attachments, raw cells) is noted."""

    enabled = Bool(True).tag(config=True)
    notes_file = Unicode("", help="append the notes of each notebook here (JSON lines)").tag(config=True)

    def preprocess(self, nb, resources):
        self._notes = []
        self._course = {src for _, src in _source_cells(resources)[0].values()}
        nb, resources = self._clean(nb, resources)
        if self.notes_file and self._notes:
            with open(self.notes_file, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"notebook": resources["nbgrader"]["notebook"],
                                     "notes": list(dict.fromkeys(self._notes))}, ensure_ascii=False) + "\n")
        return nb, resources

    def _clean(self, nb, resources):
        from nbformat import NotebookNode

        kernelspec = nb.metadata.get("kernelspec")
        nb.metadata = NotebookNode({"language_info": {"name": "python", "pygments_lexer": "ipython3"}})
        if isinstance(kernelspec, dict):
            nb.metadata["kernelspec"] = NotebookNode({k: str(v) for k, v in kernelspec.items()
                                                      if k in ("name", "display_name", "language")})
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        from nbformat import NotebookNode

        if not isinstance(cell.get("id"), str) or not _SAFE_ID.fullmatch(cell["id"]):
            cell["id"] = uuid.uuid4().hex[:16]
        meta = cell.get("metadata", {})
        cell.metadata = NotebookNode({k: meta[k] for k in ("nbgrader", "deletable", "editable") if k in meta})
        where = f"cell {index + 1}" + (f" ({meta['nbgrader'].get('grade_id')})" if isinstance(meta.get("nbgrader"), dict) else "")
        if cell.pop("attachments", None):
            self._notes.append(f"{where}: attachments removed")
        if cell.cell_type not in ("code", "markdown"):
            cell.cell_type = "markdown"                # a raw cell is shown verbatim as HTML by nbconvert
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
            self._notes.append(f"{where}: a raw cell, shown as text")
        if cell.cell_type == "code":
            active = [k for out in cell.get("outputs", []) if isinstance(out, dict)
                      for k in (out.get("data") or {}) if k not in _PLAIN_TYPES]
            if active:
                self._notes.append(f"{where}: saved outputs with {', '.join(sorted(set(active))[:3])} removed")
            cell.outputs = []
            cell.execution_count = None
        elif cell.source not in self._course:
            cleaned = clean_markdown(cell.source)
            if cleaned != cell.source:
                self._notes.append(f"{where}: HTML in the text removed (scripts, attributes, links)")
            cell.source = cleaned
        return cell, resources


class SanitizeOutputs(Preprocessor):
    """For the engine that runs the notebook (`--engine kernel`): after execution, only what a test
    cell's score needs is kept (errors, a partial-credit number as text); every other output
    (printed text, HTML, scripts, images) is dropped. Scores do not change: nbgrader scores errors,
    numbers, and (with this course's IgnorePattern) never stderr."""

    enabled = Bool(True).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        meta = _nbgrader(cell)
        kept = []
        if meta.get("grade") and not meta.get("solution"):
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    kept.append(out)
                elif out.get("output_type") == "execute_result":
                    out["data"] = {"text/plain": str((out.get("data") or {}).get("text/plain", ""))}
                    out["metadata"] = {}
                    kept.append(out)
        cell.outputs = kept
        return cell, resources


def _error_output(exc: BaseException):
    return _error_from(_error_parts(exc))


def _error_from(parts) -> dict:
    from nbformat.v4 import new_output

    ename, evalue, lines = parts
    return new_output("error", ename=ename, evalue=evalue, traceback=list(lines))


class LiteralExecute(Preprocessor):
    """nbgrader's Execute, replaced: answers read as data, the course's tests run against them (see
    the module docstring). Notes (what was ignored, and why) go on the cells and, as JSON lines, to
    `notes_file` for the grading summary."""

    enabled = Bool(True).tag(config=True)
    notes_file = Unicode("", help="append the notes of each notebook here (JSON lines)").tag(config=True)
    separate_process = Bool(True, help="Run the course's tests in a separate process (run_tests_apart)"
                            ).tag(config=True)
    test_seconds = Int(60, help="CPU and wall-clock seconds for all the tests of one notebook").tag(config=True)
    test_memory_mb = Int(2048, help="Memory (address space, MiB) of the test process").tag(config=True)

    def preprocess(self, nb, resources):
        from nbformat.v4 import new_output

        from ..checks import read_answer_cell

        sources, grade_cells, solution_ids = _source_cells(resources)
        notes: list[str] = []
        namespace: dict = {}
        for index, cell in enumerate(nb.cells):
            meta = _nbgrader(cell)
            gid = meta.get("grade_id")
            if cell.cell_type != "code":
                if gid not in sources and cell.source.strip():
                    notes.append(f"cell {index + 1} (added by the trainee, text) is not scored")
                continue
            cell.outputs, cell.execution_count = [], None
            if gid in grade_cells and not meta.get("solution"):
                continue                                   # a test cell: run below, from the gradebook
            if gid in solution_ids and sources.get(gid, ("",))[0] == "code":
                names = _answer_names(sources[gid][1])
                read = read_answer_cell(cell.source, names)
                said = []
                if read.error:
                    said.append(read.error)
                said += [f"line {line}: `{text}` is not an answer line; not run, not scored" for line, text in read.ignored]
                said += [f"{n} is not written as one value (in quotes, or a number); it scores 0" for n in read.unreadable]
                if said:
                    cell.outputs = [note_output("coordkit (grading note): " + "\n".join(said))]
                    notes.append(f"{gid}: " + "; ".join(said))
                namespace.update(read.values)
            elif gid in sources and sources[gid][0] == "code" and not meta.get("grade"):
                continue                                   # the course's own cell (the answers check): not scored
            elif cell.source.strip():
                cell.outputs = [note_output("coordkit (grading note): this cell was added by the trainee; "
                                            "it was not run and is not scored")]
                first = cell.source.strip().splitlines()[0][:60]
                notes.append(f"cell {index + 1} (added by the trainee: `{first}`) was not run, not scored")
        tested = [cell for cell in nb.cells if cell.cell_type == "code" and _nbgrader(cell).get("grade_id") in grade_cells
                  and not _nbgrader(cell).get("solution")]
        tests = [(_nbgrader(c)["grade_id"], sources.get(_nbgrader(c)["grade_id"], ("code", ""))[1]) for c in tested]
        if self.separate_process:
            outcomes = run_tests_apart(tests, namespace, seconds=self.test_seconds,
                                       memory_bytes=self.test_memory_mb * 1024 * 1024)
        else:
            outcomes = run_tests(tests, namespace)
        for cell, (kind, value) in zip(tested, outcomes):
            if kind == "error":
                cell.outputs = [_error_from(value)]
            elif kind == "result":
                cell.outputs = [new_output("execute_result", data={"text/plain": value}, execution_count=None)]
        if self.notes_file:
            with open(self.notes_file, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"notebook": resources["nbgrader"]["notebook"], "notes": notes},
                                    ensure_ascii=False) + "\n")
        return nb, resources


def _answer_names(source: str) -> list[str]:
    """The answer variables of an answer cell: the names its source (the course's) assigns."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return list(dict.fromkeys(t.id for n in tree.body if isinstance(n, ast.Assign)
                              for t in n.targets if isinstance(t, ast.Name)))
