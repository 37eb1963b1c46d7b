"""One submission, in a grading worker process: grade_submission runs preflight, the real nbgrader
Autograde (answers read as data by LiteralExecute, or the kernel engine's sandboxed Execute) and
GenerateFeedback in the submission's private course root, against the worker's private gradebook,
and returns the submission's state for the coordinator (coordkit.grading.engine) to write. Also the
worker's start-up (_init_worker, _warm) and its fast paths (one SQLAlchemy engine per private
gradebook, nbgrader's metadata validation with a cached schema validator)."""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict
from pathlib import Path

from .feedback import _feedback_exporter
from .intake import _failure_reason, _mb, _run_notes, _sandbox_notes, deduplicate, preflight
from .sandbox import KERNEL_LOG, REPORT, Limits


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

        from ..course import apply_submission_state, load_nbgrader_config, submission_state

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
            from .sandboxed_execute import execute_preprocessor

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

    from .. import course  # noqa: F401
    from . import nbgrader_plugins  # noqa: F401

    for relax in (False, True):             # nbformat.read, nbconvert after each preprocessor
        nbformat.validate(nbformat.v4.new_notebook(), relax_add_props=relax)
    Highlight2HTML(pygments_lexer="ipython3")("x = 1")
    markdown2html_mistune("*x* $x$")
