"""Cohort grading: autograde and feedback for every submission of the given assignments, in
parallel processes, with a progress bar and a summary. Scores and feedback come from the real
nbgrader (its Autograde and GenerateFeedback converters and gradebook).

The trainee's notebook is data (engine "literal", the default): no cell of it is run. nbgrader's
Execute preprocessor is replaced by coordkit.nbgrader_plugins.LiteralExecute, which reads each
autograded answer as one literal (`q3 = "2025-04-18"`, ast.literal_eval) and runs the assignment's
test cells, taken from the gradebook (the course's own code, with the hidden tests), in the worker
against those values only; nbgrader's SaveAutoGrades scores the result as usual. Anything else in
an answer cell, and every cell the trainee added, is listed in the grading notes and on the cell
(Formgrader), never run. SanitizeSubmission removes from the notebook whatever a browser could run
(outputs, attachments, raw HTML cells, HTML in markdown, foreign metadata) before Formgrader and the
feedback show it; only the notebooks and timestamp.txt of a submission folder are used. The previous
engine (engine "kernel": each notebook run by nbgrader in a kernel confined by coordkit.sandbox) is
kept for comparison (`coordkit grade --engine kernel`, bench/autograde.py).

How it works (and why the gradebook cannot be corrupted):

- One coordinator process (the `coordkit grade` command) plans the work, starts `jobs` worker
  processes and is the only process that writes the course gradebook (any SQLAlchemy URL; SQLite
  by default).
- A worker grades one submission at a time in a private course root under <course>/.coordkit/runs/:
  the trainee's submitted notebooks, the assignment's source folder, and the worker's private
  SQLite gradebook reset from a template that holds the assignment definitions from the course
  gradebook (and, for a regrade, this submission's earlier state, so nbgrader sees what it would
  see in the course gradebook). Before grading, the submission is checked (number of files, size,
  links, UTF-8, JSON, notebook, assignment); what cannot be graded is quarantined with its reason,
  within the first milliseconds of its turn.
- When workers are done, the coordinator writes those submissions' states (timestamp, scores,
  comments, late penalty) into the course gradebook in one transaction (a batch: up to BATCH_SIZE
  submissions, one commit), then moves each one's feedback and autograded folders into place (a
  rename: the autograded folder appearing is the commit point). A run killed at any moment leaves
  either a finished submission or one that the next run grades again; writing the same state twice
  changes nothing, so nothing is lost or duplicated.
- A submission is graded again when nbgrader would grade it again (no autograded folder, or a
  newer timestamp.txt), or with force=True. A quarantined one is checked again when its files change.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .config import Settings
from .errors import CoordkitError, OutputError
from .sandbox import KERNEL_LOG, REPORT, Limits

STATE_DIR = ".coordkit"


class GradingError(CoordkitError):
    """Grading cannot start (another run holds the course, or the course is not ready)."""


@dataclass
class SubmissionOutcome:
    assignment: str
    trainee_id: str
    status: str                      # graded | reused | quarantined
    reasons: list[str] = field(default_factory=list)
    auto_score: float | None = None  # autograded part
    auto_max: float | None = None
    seconds: float = 0.0


@dataclass
class CohortGradeResult:
    assignments: list[str]
    jobs: int = 1
    submissions: dict[str, int] = field(default_factory=dict)
    graded: dict[str, int] = field(default_factory=dict)
    reused: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, dict[str, str]] = field(default_factory=dict)   # assignment -> trainee -> reason
    outcomes: list[SubmissionOutcome] = field(default_factory=list)
    sandbox: str = ""
    seconds: float = 0.0

    @property
    def worked(self) -> int:
        return sum(1 for o in self.outcomes if o.status != "reused")

    def to_dict(self) -> dict:
        return {"assignments": self.assignments, "jobs": self.jobs, "submissions": self.submissions,
                "graded": self.graded, "reused": self.reused, "quarantined": self.quarantined,
                "sandbox": self.sandbox, "seconds": round(self.seconds, 2),
                "outcomes": [asdict(o) for o in self.outcomes]}

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame([{**asdict(o), "reasons": "; ".join(o.reasons)} for o in self.outcomes],
                            columns=["assignment", "trainee_id", "status", "reasons", "auto_score", "auto_max",
                                     "seconds"])

    def summary_lines(self) -> list[str]:
        """The summary table printed after grading, then quarantined and noted submissions."""
        width = max([len(a) for a in self.assignments] + [10])
        lines = [f"{'assignment':<{width}}  submissions  graded  reused  quarantined  mean auto score (graded now)"]
        for a in self.assignments:
            scored = [o for o in self.outcomes if o.assignment == a and o.auto_max]
            mean = (f"{100 * sum(o.auto_score for o in scored) / sum(o.auto_max for o in scored):.1f}%"
                    if scored else "-")
            lines.append(f"{a:<{width}}  {self.submissions.get(a, 0):>11}  {self.graded.get(a, 0):>6}  "
                         f"{self.reused.get(a, 0):>6}  {len(self.quarantined.get(a, {})):>11}  {mean:>28}")
        held = [o for o in self.outcomes if o.status == "quarantined"]
        if held:
            lines.append("Quarantined (not graded; the reason says what to fix, then run `coordkit grade` again):")
            lines += [f"  {o.trainee_id}  {o.assignment}  {o.reasons[0]}" for o in held]
        noted = [o for o in self.outcomes if o.status == "graded" and o.reasons]
        if noted:
            lines.append("Graded, with notes:")
            lines += [f"  {o.trainee_id}  {o.assignment}  {r}" for o in noted for r in o.reasons]
        if self.worked:
            lines.append(f"Time: {self.seconds:.1f} s for {self.worked} submission(s) with {self.jobs} job(s) "
                         f"({self.seconds / self.worked:.2f} s per submission).")
        if self.sandbox:
            lines.append(f"Sandbox: {self.sandbox}")
        return lines


def default_jobs() -> int:
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:
        return os.cpu_count() or 1


# --- before grading: is this a submission nbgrader can grade? --------------------------------------

def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def fingerprint(folder: Path) -> str:
    """Names, sizes and modification times of a submitted folder (links are not followed)."""
    h = hashlib.sha256()
    seen = 0
    for dirpath, dirnames, filenames in os.walk(folder):
        seen += len(dirnames) + len(filenames)
        if seen > 100_000:                  # far over any limit: quarantined anyway, stop hashing
            h.update(b"...")
            break
        dirnames.sort()
        for name in sorted(filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]):
            st = os.lstat(os.path.join(dirpath, name))
            h.update(f"{os.path.relpath(os.path.join(dirpath, name), folder)}\0{st.st_size}\0{st.st_mtime_ns}\n"
                     .encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def _grade_id(cell) -> str | None:
    """nbgrader's grade_id of a cell of untrusted JSON, or None."""
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    gid = nbg.get("grade_id") if isinstance(nbg, dict) else None
    return gid if isinstance(gid, str) else None


def preflight(folder: Path, *, definition: dict, released: dict[str, dict[str, str]],
              limits: Limits) -> tuple[str | None, list[str]]:
    """(reason to quarantine or None, notes). Checks what nbgrader would crash on or grade wrongly:
    links, special files, size, missing notebooks, bytes that are not UTF-8, invalid JSON, a file
    that is not a notebook or belongs to another assignment; notes deleted, duplicated and edited
    cells (nbgrader grades those with the original tests)."""
    import stat

    assignment = definition["name"]
    total, largest, count = 0, (0, ""), 0
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            count += 1
            if count > limits.submission_files:
                return (f"the submission holds more than {limits.submission_files} files and folders; "
                        "the trainee should submit only the assignment's notebook"), []
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, folder)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                return (f"contains a symbolic link ({rel} -> {os.readlink(path)}), which could reach "
                        "other files; the trainee must submit plain files"), []
            if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
                return f"contains a special file ({rel}); the trainee must submit plain files", []
            if stat.S_ISREG(st.st_mode):
                total += st.st_size
                largest = max(largest, (st.st_size, rel))
    if total > limits.submission_bytes:
        return (f"the submission is {_mb(total)}, over the {_mb(limits.submission_bytes)} limit "
                f"(largest file: {largest[1]}, {_mb(largest[0])})"), []
    notes: list[str] = []
    present = 0
    for nb_def in definition["notebooks"]:
        name = f"{nb_def['name']}.ipynb"
        path = folder / name
        if not path.is_file():
            notes.append(f"{name} was not submitted: it scores 0")
            continue
        present += 1
        size = path.stat().st_size
        if size > limits.notebook_bytes:
            return (f"{name} is {_mb(size)}, over the {_mb(limits.notebook_bytes)} limit for one notebook; "
                    "the trainee should clear its outputs (Edit > Clear Outputs of All Cells) and resubmit"), []
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return (f"{name} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                    "the trainee should save the notebook again from Jupyter and resubmit"), []
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            return (f"{name} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                    "the file is damaged: the trainee should resubmit it from Jupyter"), []
        except RecursionError:
            return (f"{name} is JSON nested too deeply to be a notebook; the trainee should resubmit the "
                    "notebook from Jupyter"), []
        if not (isinstance(data, dict) and isinstance(data.get("cells"), list) and data.get("nbformat") == 4):
            return f"{name} is JSON but not a Jupyter notebook (version 4); the trainee should resubmit", []
        meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        other = (meta.get("coordkit") or {}).get("assignment") if isinstance(meta.get("coordkit"), dict) else None
        if other and other != assignment:
            return (f"{name} is the notebook of assignment {other}, not {assignment}; the trainee should "
                    f"submit the {assignment} notebook"), []
        expected = {c[0] for c in nb_def["source_cells"]}
        ids = [gid for gid in map(_grade_id, data["cells"]) if gid]
        if expected and not set(ids) & expected:
            return (f"{name} has none of the graded cells of {assignment} (it is another assignment's "
                    "notebook, or a new one); the trainee should submit the released notebook"), []
        graded = {c[0] for c in nb_def["grade_cells"]} | {c[0] for c in nb_def["task_cells"]}
        for gid in sorted(graded - set(ids)):
            notes.append(f"graded cell {gid} was deleted: it scores 0")
        for gid in sorted({i for i in ids if ids.count(i) > 1}):
            notes.append(f"cell {gid} appears {ids.count(gid)} times: the last copy was graded")
        originals = released.get(nb_def["name"], {})
        for number, cell in enumerate(data["cells"], 1):
            outputs = cell.get("outputs") if isinstance(cell, dict) else None
            kinds = {k for out in outputs if isinstance(out, dict) and isinstance(out.get("data"), dict)
                     for k in out["data"] if k != "text/plain"} if isinstance(outputs, list) else set()
            if kinds:
                notes.append(f"cell {number}: saved outputs with {', '.join(sorted(kinds)[:3])} removed, never shown")
        for cell in data["cells"]:
            gid = _grade_id(cell)
            if gid in originals:
                source = cell.get("source", "")        # a dict: _grade_id checked it
                source = "".join(source) if isinstance(source, list) else str(source)
                if source.strip() != originals[gid].strip():
                    notes.append(f"locked cell {gid} was edited: it was graded with the original")
    if not present:
        found = ", ".join(sorted(p.name for p in folder.iterdir())) or "nothing"
        wanted = ", ".join(f"{nb['name']}.ipynb" for nb in definition["notebooks"])
        return f"missing file: {wanted} (the folder holds {found})", []
    return None, sorted(set(notes), key=notes.index)


# --- in a worker process -----------------------------------------------------------------------------

class _CachedSchemaValidation:
    """jsonschema.validate as nbgrader's cell-metadata check calls it (once per cell), without
    checking nbgrader's own schema again each time: the same validation, a fraction of the cost."""

    def __init__(self):
        import jsonschema

        self._jsonschema = jsonschema
        self._validators: dict[int, object] = {}

    def validate(self, instance, schema):
        validator = self._validators.get(id(schema))
        if validator is None:
            cls = self._jsonschema.validators.validator_for(schema)
            cls.check_schema(schema)
            validator = self._validators[id(schema)] = (cls(schema), schema)   # keep schema alive: id stays valid
        error = self._jsonschema.exceptions.best_match(validator[0].iter_errors(instance))
        if error is not None:
            raise error

    def __getattr__(self, name):
        return getattr(self._jsonschema, name)


_WORKER_ENGINES: dict = {}          # the worker's private gradebook URL -> its one SQLAlchemy engine


def _fast_paths() -> None:
    """Once per worker: nbgrader's metadata validation with a cached schema validator, and one
    SQLAlchemy engine for the worker's private gradebook (nbgrader opens a Gradebook, so a new engine,
    about fifteen times per submission: each would compile every query again, list and check every
    table, and connect again after closing). The private gradebook is always a copy of the template,
    which has every table."""
    import nbgrader.api as api
    from nbgrader.nbgraderformat import common

    if not isinstance(common.jsonschema, _CachedSchemaValidation):
        common.jsonschema = _CachedSchemaValidation()
    if getattr(api.create_engine, "coordkit", False):
        return
    create_engine, create_all = api.create_engine, api.Base.metadata.create_all

    def engine_for(url, *args, **kwargs):
        engine = _WORKER_ENGINES.get(str(url))
        return engine if engine is not None else create_engine(url, *args, **kwargs)

    def create_tables(bind=None, **kwargs):
        if bind is not None and any(bind is e for e in _WORKER_ENGINES.values()):
            return None                   # a copy of the template: every table is there
        return create_all(bind=bind, **kwargs)

    class _AllTables:
        def get_table_names(self):
            return sorted(api.Base.metadata.tables)

    def inspect_tables(subject, *args, **kwargs):
        if any(subject is e for e in _WORKER_ENGINES.values()):
            return _AllTables()           # a copy of the template: no query to list its tables
        return inspect(subject, *args, **kwargs)

    def close(gradebook):
        gradebook.db.remove()
        if not any(gradebook.engine is e for e in _WORKER_ENGINES.values()):
            gradebook.engine.dispose()    # a shared engine keeps its connection for the next Gradebook
                                          # (_private_gradebook disposes it before swapping the file)

    engine_for.coordkit = True
    inspect = api.inspect
    api.create_engine = engine_for
    api.Base.metadata.create_all = create_tables
    api.inspect = inspect_tables
    api.Gradebook.close = close


def _private_gradebook(template: str, folder: Path) -> str:
    """The worker's private gradebook, reset to the template: always the same file (and so the same
    engine, see _fast_paths) for every submission this worker grades. Returns its URL."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"worker-{os.getpid()}.db"
    url = f"sqlite:///{path}"
    engine = _WORKER_ENGINES.get(url)
    if engine is not None:
        engine.dispose()                  # no connection to the old file survives the swap
    tmp = folder / f"worker-{os.getpid()}.tmp"
    shutil.copyfile(template, tmp)
    os.replace(tmp, path)
    if engine is None:
        _WORKER_ENGINES[url] = _scratch_engine(url)
    return url


def _scratch_engine(url: str):
    """A SQLAlchemy engine for a scratch SQLite file of this run (the template, a worker's private
    gradebook): rebuilt from the course gradebook if the run dies, so no fsync per commit. The course
    gradebook, written by the coordinator only, keeps SQLite's defaults."""
    from sqlalchemy import create_engine, event

    engine = create_engine(url, echo=False, future=True)

    @event.listens_for(engine, "connect")
    def _scratch(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA synchronous=OFF")
        dbapi_connection.execute("PRAGMA journal_mode=MEMORY")

    return engine


def _init_worker(log_path: str, lock_fd: int | None = None) -> None:
    """Worker start: its output (and its kernels') goes to a log file, not the lecturer's terminal;
    on Linux it stops when the coordinator dies. A worker forked from the coordinator closes its copy
    of the run's lock, so that the lock is free the moment the coordinator is gone (a killed run's
    dying workers never hold up the next run)."""
    if lock_fd is not None:
        try:
            os.close(lock_fd)
        except OSError:
            pass
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    try:
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    import nbgrader.converters  # noqa: F401 - warm the import once per worker


_FAILURES = [
    ("NotebookTimeLimit", "ran over the notebook time budget of {notebook_seconds} s (a loop that ignores "
                          "interrupts?); not graded"),
    ("DeadKernelError", "the kernel stopped while running the notebook: the code exits, crashes the kernel, "
                        "or went over the CPU ({cpu_seconds} s) or memory ({memory_mb} MB) limit; not graded"),
    ("Kernel died", "the kernel stopped while running the notebook: the code exits, crashes the kernel, "
                    "or went over the CPU ({cpu_seconds} s) or memory ({memory_mb} MB) limit; not graded"),
    ("SandboxUnavailable", "no sandboxed kernel could be started ({detail}); not graded"),
    ("Timeout waiting for IOPub", "the kernel stopped answering (a loop that ignores interrupts, or code that "
                                  "broke the kernel); not graded"),
    ("Notebook failed to validate", "its nbgrader cell metadata is damaged beyond repair; the trainee should "
                                    "resubmit from the released notebook"),
]


def _failure_reason(log: str, limits: Limits) -> str:
    for needle, text in _FAILURES:
        if needle in log:
            detail = next((l.split(":", 1)[-1].strip() for l in log.splitlines() if needle in l), "")
            return text.format(notebook_seconds=limits.notebook_seconds, cpu_seconds=limits.cpu_seconds,
                               memory_mb=limits.memory_bytes // 1024 // 1024, detail=detail[:200])
    errors = [l.strip() for l in log.splitlines() if l.strip() and not l.startswith((" ", "["))]
    return f"nbgrader could not grade it ({(errors or ['see the log'])[-1][:200]})"


def _run_notes(notebook_path: Path, limits: Limits) -> list[str]:
    """What the grader's log does not say: timeouts, resource limits, cut output (from the outputs)."""
    notes: list[str] = []
    try:
        nb = json.loads(notebook_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return notes
    for cell in nb.get("cells", []):
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", f"cell {cell.get('id', '?')}")
        for out in cell.get("outputs", []):
            ename, evalue = out.get("ename", ""), str(out.get("evalue", ""))
            text = "".join(out.get("text", "")) if out.get("output_type") == "stream" else ""
            if ename in ("CellTimeoutError", "KeyboardInterrupt"):
                notes.append(f"{gid}: stopped after the per-cell time limit")
            elif ename == "MemoryError":
                notes.append(f"{gid}: ran out of memory (limit {limits.memory_bytes // 1024 // 1024} MB)")
            elif ename == "OSError" and "File too large" in evalue:
                notes.append(f"{gid}: tried to write a file over {_mb(limits.file_bytes)}")
            elif "[coordkit: output over" in text:
                notes.append(f"{gid}: printed more than {limits.output_bytes // 1024} KiB; the rest was cut")
    return list(dict.fromkeys(notes))


def _feedback_exporter():
    """nbgrader's feedback exporter (HTML) with its compiled templates kept on disk for the run:
    stock nbgrader compiles them once per command, a worker would compile them per submission. The
    page itself is coordkit's feedback template, set in nbgrader_config.py (coordkit.feedback_page)."""
    from jinja2 import FileSystemBytecodeCache
    from nbconvert.exporters import HTMLExporter
    from traitlets import Unicode

    from nbconvert.exporters.html import Highlight2HTML, WidgetsDataTypeFilter
    from nbconvert.exporters.templateexporter import TemplateExporter

    no_alt = re.compile(r"<img(?![^>]*\balt=)")
    focusable = re.compile(r'<div class="((?:[^"]* )?(?:jp-Cell-inputWrapper|jp-OutputArea-output)(?: [^"]*)?)"')

    class FeedbackExporter(HTMLExporter):
        """nbconvert's HTMLExporter, whose last step (images without alternative text get one, inputs
        and outputs become focusable) is done on the template's known markup instead of re-parsing the
        whole page with BeautifulSoup, which took a third of the time per submission."""

        template_cache = Unicode("", help="folder for compiled templates").tag(config=True)

        def from_notebook_node(self, nb, resources=None, **kw):
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            highlight_code = self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            resources = self._init_resources(resources)
            filter_data_type = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self,
                                                     resources=resources)
            self.register_filter("highlight_code", highlight_code)
            self.register_filter("filter_data_type", filter_data_type)
            html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            html = no_alt.sub('<img alt="No description has been provided for this image"', html)
            return focusable.sub(r'<div class="\1" tabindex="0"', html), resources

        def _create_environment(self):
            environment = super()._create_environment()
            if self.template_cache:
                os.makedirs(self.template_cache, exist_ok=True)
                environment.bytecode_cache = FileSystemBytecodeCache(self.template_cache)
            return environment

    return FeedbackExporter


def _sandbox_notes(report: Path) -> list[str]:
    refused: list[str] = []
    if report.is_file():
        for line in report.read_text(encoding="utf-8").splitlines():
            refused += [r for r in (json.loads(line).get("refused") or []) if isinstance(r, str)]
    refused = list(dict.fromkeys(refused))
    if not refused:
        return []
    more = f" and {len(refused) - 3} more" if len(refused) > 3 else ""
    return [f"blocked by the sandbox: {'; '.join(refused[:3])}{more}"]


_CELL_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def deduplicate(path: Path, *, known: set[str] | None = None) -> list[str]:
    """Make a submitted notebook one that nbgrader can grade as the trainee meant it, and return
    notes: keep nbgrader's marks on the last copy of a duplicated cell only, as nbgrader's own
    DeduplicateIds means to (it leaves an empty mark that its validator then rejects, so stock
    nbgrader cannot grade such a notebook at all); with `known` (the assignment's cell ids), remove
    the marks of cells that are not the assignment's (a cell the trainee added and marked as a
    test); give a cell whose id is not a valid notebook cell id a new one. Rewrites the file."""
    import uuid

    nb = json.loads(path.read_text(encoding="utf-8"))
    seen: set[str] = set()
    notes: list[str] = []
    changed = False
    for number, cell in reversed(list(enumerate(nb["cells"], 1))):
        if not isinstance(cell, dict):
            continue
        if "id" in cell and not (isinstance(cell["id"], str) and _CELL_ID.fullmatch(cell["id"])):
            cell["id"] = uuid.uuid4().hex[:16]
            changed = True
        gid = _grade_id(cell)
        if gid is None:
            continue
        if known is not None and gid not in known:
            del cell["metadata"]["nbgrader"]
            notes.append(f"cell {number} carried the marks of a graded cell {gid[:40]!r} that is not in the "
                         "assignment: treated as a cell added by the trainee")
            changed = True
        elif gid in seen:
            del cell["metadata"]["nbgrader"]
            changed = True
        seen.add(gid)
    if changed:
        path.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    return notes


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def grade_submission(task: dict) -> dict:
    """Grade one submission in its private course root (runs in a worker process)."""
    started = time.perf_counter()
    limits = Limits(**task["limits"])
    assignment, student = task["assignment"], task["student"]
    root = Path(task["root"])
    out = {"assignment": assignment, "student": student, "status": "quarantined", "reasons": [],
           "state": None, "seconds": 0.0, "log": ""}
    try:
        reason, notes = preflight(Path(task["submitted"]), definition=task["definition"],
                                  released=task["released"], limits=limits)
        if reason:
            out["reasons"] = [reason]
            return out
        from nbgrader.api import Gradebook
        from nbgrader.converters import Autograde, GenerateFeedback
        from nbgrader.coursedir import CourseDirectory
        from nbgrader.preprocessors import Execute
        from nbgrader.utils import capture_log
        from traitlets.config import Config

        from .course import apply_submission_state, load_nbgrader_config, submission_state

        _fast_paths()

        cfg = load_nbgrader_config(Path(task["course_root"]))
        db_url = _private_gradebook(task["template"], Path(task["template"]).parent / "gradebooks")
        over = Config()
        over.CourseDirectory.root = str(root)
        over.CourseDirectory.db_url = db_url
        over.CourseDirectory.assignment_id = assignment
        over.CourseDirectory.student_id = student
        cfg.merge(over)
        coursedir = CourseDirectory(config=cfg)
        # the private course root: the submission, the assignment's source, a private gradebook
        private_submission = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment))
        engine = task.get("engine", "literal")
        if engine == "literal":
            # only what is graded: the notebooks and the submission time; nothing else the trainee
            # put in the folder reaches the autograded or feedback folders
            private_submission.mkdir(parents=True)
            wanted = ({f"{nb['name']}.ipynb" for nb in task["definition"]["notebooks"]}
                      | {"timestamp.txt", "submission_secret.txt"})   # the secret: release_feedback needs it
            others = []
            for entry in sorted(os.listdir(task["submitted"])):
                if entry in wanted and os.path.isfile(os.path.join(task["submitted"], entry)):
                    shutil.copyfile(os.path.join(task["submitted"], entry), private_submission / entry)
                else:
                    others.append(entry)
            if others:
                notes.append(f"{len(others)} other file(s) in the submission not used ({', '.join(others[:3])}"
                             f"{', ...' if len(others) > 3 else ''})")
        else:
            shutil.copytree(task["submitted"], private_submission, symlinks=True)
        for nb_def in task["definition"]["notebooks"]:
            private = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment),
                           f"{nb_def['name']}.ipynb")
            if private.is_file():
                notes += deduplicate(private, known={c[0] for c in nb_def["source_cells"]})
        source = Path(coursedir.format_path(coursedir.source_directory, ".", assignment))
        source.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(task["source"], source)
        with Gradebook(db_url, task["course_id"]) as gb:
            if task["prior"] is not None:
                apply_submission_state(gb, assignment=assignment, student=student, state=task["prior"],
                                       manual=True)

        from .nbgrader_plugins import LiteralExecute, SanitizeOutputs, SanitizeSubmission

        def is_execute(p):        # nbgrader's Execute, or LiteralExecute (nbgrader_config.py's, since #13)
            return p in (Execute, LiteralExecute) or p in ("nbgrader.preprocessors.Execute",
                                                          "nbgrader.preprocessors.execute.Execute")

        if engine == "literal":
            replace = [LiteralExecute]
        else:
            from .sandbox import execute_preprocessor

            replace = [execute_preprocessor()]
        steps = list(cfg.Autograde.get("autograde_preprocessors",
                                       Autograde.class_traits()["autograde_preprocessors"].default()))
        steps = [q for p in steps if p is not SanitizeOutputs for q in (replace if is_execute(p) else [p])]
        if engine != "literal":      # the kernel's outputs, once scored: only what a score needs is kept
            scored = [i + 1 for i, p in enumerate(steps)
                      if getattr(p, "__name__", str(p)).endswith(("SaveAutoGrades", "AssignLatePenalties"))]
            steps.insert(max(scored, default=len(steps)), SanitizeOutputs)
        sanitize = list(cfg.Autograde.get("sanitize_preprocessors",
                                          Autograde.class_traits()["sanitize_preprocessors"].default()))
        at = next((i + 1 for i, p in enumerate(sanitize) if getattr(p, "__name__", str(p)).endswith("OverwriteCells")),
                  len(sanitize))
        if SanitizeSubmission not in sanitize:
            sanitize[at:at] = [SanitizeSubmission]
        sandbox_cfg = Config()
        sandbox_cfg.Autograde.autograde_preprocessors = steps
        sandbox_cfg.Autograde.sanitize_preprocessors = sanitize
        sandbox_cfg.SandboxedExecute.home = str(root / "home")
        sandbox_cfg.SandboxedExecute.deny = [task["course_root"]]
        sandbox_cfg.SandboxedExecute.limits = asdict(limits)
        sandbox_cfg.LiteralExecute.notes_file = str(root / "notes.jsonl")
        sandbox_cfg.SanitizeSubmission.notes_file = str(root / "notes.jsonl")
        cfg.merge(sandbox_cfg)

        app = Autograde(coursedir=coursedir, config=cfg)
        app.force = True
        app.create_student = True
        graded = capture_log(app)
        out["log"] = graded.get("log", "")
        if not graded["success"]:
            kernel_log = root / KERNEL_LOG
            if kernel_log.is_file():
                out["log"] += "\n--- kernel output ---\n" + kernel_log.read_text(encoding="utf-8", errors="replace")[-20000:]
            out["reasons"] = [_failure_reason(out["log"] + graded.get("error", ""), limits)]
            return out
        workdir = Path(coursedir.format_path(coursedir.autograded_directory, student, assignment))
        for nb_def in task["definition"]["notebooks"]:
            notes += _run_notes(workdir / f"{nb_def['name']}.ipynb", limits)
        notes += _sandbox_notes(root / REPORT)
        if (root / "notes.jsonl").is_file():
            for line in (root / "notes.jsonl").read_text(encoding="utf-8").splitlines():
                notes += json.loads(line)["notes"]
        if _folder_bytes(workdir) > limits.submission_bytes:
            kept = {p.relative_to(task["submitted"]) for p in Path(task["submitted"]).rglob("*")}
            for path in sorted(workdir.rglob("*"), reverse=True):
                if path.relative_to(workdir) not in kept and path.suffix != ".ipynb":
                    shutil.rmtree(path) if path.is_dir() else path.unlink()
            notes.append(f"the code wrote more than {_mb(limits.submission_bytes)} of files; they were removed")
        exporter = Config()
        exporter.GenerateFeedback.exporter_class = _feedback_exporter()
        exporter.FeedbackExporter.template_cache = str(Path(task["template"]).parent / "templates")
        cfg.merge(exporter)
        feedback = GenerateFeedback(coursedir=coursedir, config=cfg)
        feedback.force = True
        fed = capture_log(feedback)
        out["log"] += fed.get("log", "")
        if not fed["success"]:
            out["reasons"] = [f"feedback could not be generated ({_failure_reason(fed.get('log', ''), limits)})"]
            return out
        feedback_dir = Path(coordir_feedback := coursedir.format_path(coursedir.feedback_directory, student, assignment))
        for path in sorted(feedback_dir.rglob("*"), reverse=True):      # feedback: what the course generated
            if path.is_dir() and not path.is_symlink():
                if not any(path.iterdir()):
                    path.rmdir()
            elif not (path.suffix == ".html" or path.name == "timestamp.txt") or path.parent != feedback_dir:
                path.unlink()
        with Gradebook(db_url, task["course_id"]) as gb:
            out["state"] = submission_state(gb, assignment=assignment, student=student)
        out.update(status="graded", reasons=list(dict.fromkeys(notes)),
                   autograded=str(workdir),
                   feedback=coordir_feedback)
        return out
    except Exception as exc:  # noqa: BLE001 - one submission never stops the cohort
        out["status"] = "quarantined"
        out["reasons"] = [f"grader error ({type(exc).__name__}: {str(exc)[:200]})"]
        return out
    finally:
        out["seconds"] = time.perf_counter() - started


# --- in the coordinator -----------------------------------------------------------------------------

def _lock(state: Path):
    import fcntl

    state.mkdir(parents=True, exist_ok=True)
    handle = open(state / "grade.lock", "a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "?"
        handle.close()
        raise GradingError(f"another `coordkit grade` (pid {holder}) is grading {state.parent}; wait for it "
                           "to finish (it holds the gradebook)") from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def _remove_stale_runs(runs: Path) -> None:
    if not runs.is_dir():
        return
    for run in runs.iterdir():
        pid = run.name.split("-", 1)[0]
        try:
            os.kill(int(pid), 0)
        except (ValueError, ProcessLookupError):
            shutil.rmtree(run, ignore_errors=True)
        except PermissionError:
            pass


def _install(staged: Path, target: Path, trash: Path) -> None:
    """Put a finished folder in place with renames (same file system): never half a folder."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        os.rename(target, trash / f"{time.monotonic_ns()}")
    os.rename(staged, target)


def _timestamp(folder: Path):
    from nbgrader.utils import parse_utc

    stamp = folder / "timestamp.txt"
    try:
        text = stamp.read_text(encoding="utf-8").strip()
        return parse_utc(text) if text else None
    except (OSError, ValueError, OverflowError):
        return None


def _students(submitted_root: Path, assignment: str) -> list[str]:
    if not submitted_root.is_dir():
        return []
    return sorted(p.name for p in submitted_root.iterdir() if (p / assignment).is_dir())


def _up_to_date(submitted: Path, autograded: Path) -> bool:
    """nbgrader's rule: graded unless there is no autograded folder or the submission is newer."""
    if not autograded.is_dir():
        return False
    new, old = _timestamp(submitted), _timestamp(autograded)
    return not (new is not None and old is not None and new > old)


def _released_locked_cells(release: Path, definition: dict) -> dict[str, dict[str, str]]:
    locked = {nb["name"]: {c[0] for c in nb["source_cells"] if c[2]} for nb in definition["notebooks"]}
    found: dict[str, dict[str, str]] = {}
    for name, ids in locked.items():
        try:
            nb = json.loads((release / f"{name}.ipynb").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        found[name] = {c["metadata"]["nbgrader"]["grade_id"]: "".join(c["source"]) if isinstance(c["source"], list)
                       else c["source"] for c in nb.get("cells", [])
                       if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") in ids}
    return found


def _auto_part(state: dict | None, definition: dict) -> tuple[float | None, float | None]:
    if not state:
        return None, None
    score = total = 0.0
    for nb in definition["notebooks"]:
        grades = state["notebooks"].get(nb["name"], {}).get("grades", {})
        for name, max_score, cell_type in nb["grade_cells"]:
            if cell_type == "code":
                total += max_score
                score += grades.get(name, (None,))[0] or 0.0
    return (score, total) if total else (None, None)


def _warm() -> None:
    """A first task for each worker, so that workers start (and import nbgrader) at once, and pay
    while the coordinator plans what each would pay on its first submission: the imports of
    grade_submission, nbformat's schema validator (compiled on first use), and the feedback's first
    code highlighting (which imports IPython's lexers) and markdown rendering. Nothing of a course
    is read."""
    import nbformat
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.markdown_mistune import markdown2html_mistune
    from nbgrader.converters import Autograde, GenerateFeedback  # noqa: F401
    from nbgrader.preprocessors import Execute  # noqa: F401

    from . import course, nbgrader_plugins  # noqa: F401

    for relax in (False, True):             # nbformat.read, nbconvert after each preprocessor
        nbformat.validate(nbformat.v4.new_notebook(), relax_add_props=relax)
    Highlight2HTML(pygments_lexer="ipython3")("x = 1")
    markdown2html_mistune("*x* $x$")


def _candidates(course_root: Path, assignments: list[str], *, force: bool) -> int:
    """A quick count, before nbgrader is even imported, of submissions that will probably need a
    worker (no autograded folder, no quarantine record): it decides whether to start workers early."""
    submitted = course_root / "submitted"
    if not submitted.is_dir():
        return 0
    held = course_root / STATE_DIR / "quarantine"
    return sum(1 for t in submitted.iterdir() for a in assignments if (t / a).is_dir() and (
        force or not ((course_root / "autograded" / t.name / a).is_dir() or (held / a / f"{t.name}.json").is_file())))


ENGINES = ("literal", "kernel")
# The coordinator writes finished submissions into the course gradebook in batches: one commit (an
# fsync) for up to BATCH_SIZE of them, at most BATCH_SECONDS after the first of a batch finished.
# A run killed before a batch's commit grades those submissions again next time.
BATCH_SIZE = 16
BATCH_SECONDS = 1.0


def grade_cohort(assignments: list[str], *, settings: Settings, jobs: int | None = None, force: bool = False,
                 limits: Limits | None = None, show_progress: bool = True, engine: str = "literal") -> CohortGradeResult:
    """Autograde every submission of `assignments` and generate its feedback, `jobs` at a time
    (default: one per core), each in a sandbox; see the module docstring. Submissions graded and not
    resubmitted since are reused unless force=True; quarantined ones are listed with their reason."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    from tqdm import tqdm

    started = time.perf_counter()
    if engine not in ENGINES:
        raise GradingError(f"unknown grading engine {engine!r}; use one of {', '.join(ENGINES)}")
    limits = limits or Limits()
    jobs = jobs or default_jobs()
    if jobs < 1:
        raise GradingError(f"jobs must be at least 1 (got {jobs}); pass --jobs 2 or leave it out")
    course_root = settings.course_root.resolve()
    if not course_root.is_dir():
        raise GradingError(f"the course root {course_root} does not exist; run `coordkit release` first")
    state_dir = course_root / STATE_DIR
    try:
        lock = _lock(state_dir)
    except OSError as exc:
        raise OutputError(f"cannot write {state_dir} ({exc.strerror}); check the course folder's permissions") from None
    result = CohortGradeResult(assignments=list(assignments), jobs=jobs)
    logs = settings.reports_dir / "logs" / "grading"
    pool = None
    try:
        runs = state_dir / "runs"
        _remove_stale_runs(runs)
        run = runs / f"{os.getpid()}-{time.strftime('%Y%m%d%H%M%S')}"
        (run / "trash").mkdir(parents=True)
        likely = _candidates(course_root, assignments, force=force)
        # literal engine: the workers are forked from this process once it has imported nbgrader (and
        # before it opens any database), so nbgrader is imported once, not once per worker; the
        # kernel engine's workers start afresh (spawn) and import nbgrader while this process plans
        method = "fork" if engine == "literal" and "fork" in multiprocessing.get_all_start_methods() else "spawn"
        if method == "fork":
            import nbgrader.converters  # noqa: F401
            import nbgrader.api  # noqa: F401
        if likely:
            jobs = result.jobs = min(jobs, likely)
            pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context(method),
                                       initializer=_init_worker,
                                       initargs=(str(run / "workers.log"), lock.fileno() if method == "fork" else None))
            for _ in range(jobs):
                pool.submit(_warm)
        plan, gb = _plan(assignments, settings=settings, course_root=course_root, run=run, force=force,
                         limits=limits, result=result)
        for task in plan:
            task["engine"] = engine
        with gb:
            if plan:
                logs.mkdir(parents=True, exist_ok=True)
                if pool is None:
                    jobs = result.jobs = min(jobs, len(plan))
                    # the gradebook is open by now: start the workers afresh, not as copies of this process
                    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                                               initializer=_init_worker, initargs=(str(run / "workers.log"),))
                bar = tqdm(total=len(plan), desc=f"Grading ({result.jobs} job{'s' if result.jobs > 1 else ''})",
                           unit="submission", disable=not show_progress, dynamic_ncols=True)
                with bar:
                    futures = {pool.submit(grade_submission, task): task for task in plan}
                    pending, batch, since = set(futures), [], 0.0
                    while pending:
                        timeout = None if not batch else max(0.0, since + BATCH_SECONDS - time.monotonic())
                        done, pending = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
                        if done and not batch:
                            since = time.monotonic()
                        batch += [(futures[f], f.result()) for f in done]
                        if batch and (not pending or len(batch) >= BATCH_SIZE
                                      or time.monotonic() - since >= BATCH_SECONDS):
                            for outcome in _finish(batch, gb=gb, run=run, logs=logs,
                                                   quarantine_dir=state_dir / "quarantine", result=result):
                                bar.update(1)
                                held = sum(len(v) for v in result.quarantined.values())
                                bar.set_postfix_str(f"{outcome.assignment}, quarantined {held}")
                            batch = []
        _missing_feedback(assignments, settings=settings, result=result)
        if engine == "literal":
            result.sandbox = ("answers read as data (no trainee code run); the course's tests run in the "
                              "grading workers")
        else:
            from .sandbox import describe, landlock_abi

            result.sandbox = describe({"landlock_abi": landlock_abi(), "audit_hook": True})
        shutil.rmtree(run, ignore_errors=True)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        lock.close()
    result.seconds = time.perf_counter() - started
    return result


def _plan(assignments: list[str], *, settings: Settings, course_root: Path, run: Path, force: bool,
          limits: Limits, result: CohortGradeResult):
    """The submissions to grade (as worker tasks), with the others recorded in `result` as reused or
    still quarantined; writes the template gradebook. Returns (tasks, the open course gradebook)."""
    from nbgrader.api import Gradebook
    from nbgrader.coursedir import CourseDirectory

    from .course import assignment_definition, create_gradebook, load_nbgrader_config, submission_state

    cfg = load_nbgrader_config(course_root)
    coursedir = CourseDirectory(config=cfg)
    coursedir.root = str(course_root)
    course_id = cfg.CourseDirectory.get("course_id", "default_course")
    gb = Gradebook(settings.db_url, course_id)
    try:
        definitions = {a: assignment_definition(gb, assignment=a) for a in assignments}
        plan: list[dict] = []
        for a in assignments:
            students = _students(course_root / coursedir.submitted_directory, a)
            result.submissions[a] = len(students)
            result.graded[a] = result.reused[a] = 0
            released = _released_locked_cells(Path(coursedir.format_path(coursedir.release_directory, ".", a)),
                                               definitions[a])
            for s in students:
                submitted = Path(coursedir.format_path(coursedir.submitted_directory, s, a))
                autograded = Path(coursedir.format_path(coursedir.autograded_directory, s, a))
                if not force and _up_to_date(submitted, autograded):
                    result.reused[a] += 1
                    result.outcomes.append(SubmissionOutcome(a, s, "reused"))
                    continue
                mark = fingerprint(submitted)
                record = course_root / STATE_DIR / "quarantine" / a / f"{s}.json"
                if not force and record.is_file():
                    held = json.loads(record.read_text(encoding="utf-8"))
                    if held.get("fingerprint") == mark:
                        result.quarantined.setdefault(a, {})[s] = held["reason"]
                        result.outcomes.append(SubmissionOutcome(a, s, "quarantined", [held["reason"]]))
                        continue
                plan.append({
                    "assignment": a, "student": s, "submitted": str(submitted), "fingerprint": mark,
                    "root": str(run / "tasks" / f"{a}--{s}"), "course_root": str(course_root),
                    "source": str(Path(coursedir.format_path(coursedir.source_directory, ".", a)).resolve()),
                    "template": str(run / "template.db"), "course_id": course_id,
                    "definition": definitions[a], "released": released, "limits": asdict(limits),
                    "prior": submission_state(gb, assignment=a, student=s), "autograded": str(autograded),
                    "feedback": coursedir.format_path(coursedir.feedback_directory, s, a),
                })
        gb.db.rollback()                       # end the read transaction: this process writes later
        if plan:
            url = f"sqlite:///{run / 'template.db'}"
            scratch = _empty_gradebook(run / "template.db", course_gradebook=gb)
            if scratch:                      # nbgrader's Gradebook below writes through this engine
                _fast_paths()
                _WORKER_ENGINES[url] = scratch
            try:
                create_gradebook(url, course_id=course_id,
                                 definitions=[definitions[a] for a in assignments if any(t["assignment"] == a
                                                                                          for t in plan)])
            finally:
                if _WORKER_ENGINES.pop(url, None) is not None:
                    scratch.dispose()
        return plan, gb
    except BaseException:
        gb.close()
        raise


def _empty_gradebook(path: Path, *, course_gradebook):
    """An empty SQLite gradebook with nbgrader's tables, stamped with the course gradebook's schema
    version: what nbgrader's Gradebook creates for a new file, without its `alembic heads` subprocess
    (about a second) to find the version it already knows. Returns its scratch engine (no fsync per
    commit, see _scratch_engine) to write the assignment definitions with, or None (nbgrader will
    create the file)."""
    from nbgrader.api import Base
    from sqlalchemy import text

    version = course_gradebook.db.execute(text("SELECT version_num FROM alembic_version")).scalar()
    course_gradebook.db.rollback()
    if not version:
        return None                             # nbgrader will find it
    engine = _scratch_engine(f"sqlite:///{path}")
    try:
        Base.metadata.create_all(bind=engine)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": version})
    except BaseException:
        engine.dispose()
        raise
    return engine


def _missing_feedback(assignments: list[str], *, settings: Settings, result: CohortGradeResult) -> None:
    """Feedback for reused submissions that have none (deleted by hand, or graded by stock nbgrader)."""
    from .course import generate_feedback

    root = settings.course_root
    for a in assignments:
        if any(o.status == "reused" and o.assignment == a and not list((root / "feedback" / o.trainee_id / a)
                                                                        .glob("*.html")) for o in result.outcomes):
            generate_feedback(a, settings=settings)


def _finish(batch: list[tuple[dict, dict]], *, gb, run: Path, logs: Path, quarantine_dir: Path,
            result: CohortGradeResult) -> list[SubmissionOutcome]:
    """Record the workers' results of a batch of (task, result): the graded submissions' states
    merged into the gradebook in one transaction (one commit, not one per submission), then each
    one's folders moved into place (the commit point), and the quarantined ones recorded."""
    from .course import apply_submission_state

    for task, done in batch:
        if done["log"]:
            (logs / task["assignment"]).mkdir(parents=True, exist_ok=True)
            (logs / task["assignment"] / f"{task['student']}.log").write_text(done["log"], encoding="utf-8")
    graded = [(task, done) for task, done in batch if done["status"] == "graded"]
    for task, done in graded:
        apply_submission_state(gb, assignment=task["assignment"], student=task["student"], state=done["state"],
                               manual=False, commit=False)
    if graded:
        gb.db.commit()
    outcomes = []
    for task, done in batch:
        a, s = task["assignment"], task["student"]
        record = quarantine_dir / a / f"{s}.json"
        if done["status"] == "graded":
            _install(Path(done["feedback"]), Path(task["feedback"]), run / "trash")
            _install(Path(done["autograded"]), Path(task["autograded"]), run / "trash")   # the commit point
            record.unlink(missing_ok=True)
            shutil.rmtree(task["root"], ignore_errors=True)
            result.graded[a] += 1
            score, total = _auto_part(done["state"], task["definition"])
            outcome = SubmissionOutcome(a, s, "graded", done["reasons"], score, total, done["seconds"])
        else:
            reason = done["reasons"][0] if done["reasons"] else "not graded"
            if done["log"]:
                reason += f" (log: {logs / a / f'{s}.log'})"
            record.parent.mkdir(parents=True, exist_ok=True)
            tmp = record.with_suffix(".tmp")
            tmp.write_text(json.dumps({"reason": reason, "fingerprint": task["fingerprint"],
                                       "when": time.strftime("%Y-%m-%d %H:%M:%S")}, ensure_ascii=False),
                           encoding="utf-8")
            os.replace(tmp, record)
            shutil.rmtree(task["root"], ignore_errors=True)
            result.quarantined.setdefault(a, {})[s] = reason
            outcome = SubmissionOutcome(a, s, "quarantined", [reason], seconds=done["seconds"])
        result.outcomes.append(outcome)
        outcomes.append(outcome)
    return outcomes
