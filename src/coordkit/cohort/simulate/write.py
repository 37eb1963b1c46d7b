"""Writing a synthetic cohort: the submissions where nbgrader expects them (never into a course with
real submissions) and the tables as CSV (`simulate_cohort`, `write_tables`)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from ...content.banks import Bank
from ...config import Settings
from ...course.nbgrader import course_directory, step_folder, step_path
from ...errors import CoordkitError, OutputError
from .generate import _bank_stage, generate_cohort
from .model import TIMELINE, Trainee, answer_marks, fill_submission, make_trainees


@dataclass
class SimulationResult:
    cohort: str
    out_dir: Path
    trainees: list[Trainee]
    written: int = 0
    unchanged: int = 0
    skipped: int = 0
    files: dict[str, Path] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    submissions: set[tuple[str, str]] = field(default_factory=set)   # (trainee_id, assignment) written

    def to_dict(self) -> dict:
        return {"cohort": self.cohort, "trainees": len(self.trainees), "submissions_written": self.written,
                "submissions_unchanged": self.unchanged, "not_reached": self.skipped,
                "tables": {k: {"file": str(v), "rows": self.rows.get(k, 0)} for k, v in self.files.items()}}


# --------------------------------------------------------------------------------------------
# writing a cohort
# --------------------------------------------------------------------------------------------

def _write_if_changed(path: Path, text: str) -> bool:
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


TABLE_FILES = ("trainees", "enrolment", "rubric_scores", "pretest", "reaction", "followup", "consultations", "roster")


def write_tables(tables: dict, out_dir: Path) -> dict[str, Path]:
    """Write the tables of `generate_cohort` as UTF-8 CSV (dates YYYY-MM-DD) to `out_dir`; a file
    whose content is unchanged is not touched. scores.csv is not written here: it comes from the
    gradebook (`coordkit export`)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {}
    for name in TABLE_FILES:
        files[name] = out_dir / f"{name}.csv"
        _write_if_changed(files[name], tables[name].to_csv(index=False, lineterminator="\n", date_format="%Y-%m-%d"))
    return files


def survey_modules(settings: Settings, banks: Iterable[Bank]) -> list[str]:
    """The modules of the reaction survey: the syllabus units taught (the 15 TP1 subjects, the
    practice and Training Program 2) from book/syllabus.yml, or the banks' units without it."""
    path = settings.syllabus
    if path is not None and path.is_file():
        from ...content.syllabus import load_syllabus

        return [u.code for u in load_syllabus(path) if u.kind in ("subject", "practice", "group_training")]
    return sorted({u for b in banks for u in b.units})


MARKER = ".coordkit-simulated"


def _remove_stale(settings: Settings, keep: set[str]) -> int:
    """Remove simulated trainees of an earlier, larger run (only folders this module marked)."""
    removed = 0
    coursedir = course_directory(settings)
    submitted = step_folder(coursedir, "submitted")
    if not submitted.is_dir():
        return 0
    for folder in submitted.iterdir():
        if folder.name in keep or not (folder / MARKER).is_file():
            continue
        for stage in ("submitted", "autograded", "feedback"):
            shutil.rmtree(step_folder(coursedir, stage, student=folder.name), ignore_errors=True)
        removed += 1
    return removed


def _refuse_real_submissions(settings: Settings) -> None:
    """Simulation writes only into a course whose every submission folder it made itself (each holds
    the marker it writes): a folder without the marker is a real trainee's work, never overwritten."""
    submitted = step_path(settings, "submitted")
    if not submitted.is_dir():
        return
    real = sorted(p.name for p in submitted.iterdir() if p.is_dir() and not (p / MARKER).is_file())
    if real:
        shown = ", ".join(real[:3]) + (f" and {len(real) - 3} more" if len(real) > 3 else "")
        raise CoordkitError(f"{submitted} holds real submissions ({shown}: no {MARKER} marker); `coordkit "
                            "simulate` never writes into a course with real submissions: simulate into a "
                            "scratch checkout (coordkit --root <copy> simulate) or another course_root")


def simulate_cohort(banks: Iterable[Bank], *, settings: Settings, trainees: int, seed: int,
                    cohort: str | None = None, tick: Callable[[], None] | None = None,
                    consultations: int | None = None, modules: Sequence[str] | None = None,
                    pass_mark: float | Mapping[str, Any] | None = None) -> SimulationResult:
    """Generate a cohort: its submissions where nbgrader expects them
    (assignments/submitted/<trainee>/<assignment>/<notebook>.ipynb + timestamp.txt) and its tables in
    datasets/cohorts/<cohort>/ (see `generate_cohort`). Case studies are submitted by every trainee;
    a test or report only by the trainees who reached it (an earlier run's submission of a trainee who
    no longer reaches it is removed). `tick` is called once per trainee and bank."""
    cohort = cohort or settings.default_cohort
    _refuse_real_submissions(settings)
    people = make_trainees(trainees, seed=seed)
    banks = list(banks)
    if consultations is not None and consultations < 0:
        raise CoordkitError(f"the number of consultation records cannot be negative (got {consultations})")
    out_dir = settings.cohorts_dir / cohort
    result = SimulationResult(cohort=cohort, out_dir=out_dir, trainees=people)
    released = {}
    coursedir = course_directory(settings)
    for bank in banks:
        path = step_folder(coursedir, "release", assignment=bank.id) / f"{bank.id}.ipynb"
        if not path.is_file():
            raise CoordkitError(f"{bank.id} is not released yet ({path} missing); run `coordkit release {bank.id}` first")
        released[bank.id] = json.loads(path.read_text(encoding="utf-8"))
    index = {t.trainee_id: i for i, t in enumerate(people)}
    stage_day = {"tp1_check": TIMELINE["tp1_check"], "completion_test": TIMELINE["completion_test"],
                 "practice": TIMELINE["practice_end"]}

    def submit(bank: Bank, ids: Sequence[str]) -> dict[str, dict[str, float]]:
        b_index = banks.index(bank)
        stage = _bank_stage(bank)
        day = stage_day.get(stage, TIMELINE["enrolled"] + dt.timedelta(days=21 * (b_index + 1)))
        due = dt.datetime.combine(day, dt.time(9, 0))
        chosen, marks = set(ids), {}
        for trainee in people:
            folder = step_folder(coursedir, "submitted", student=trainee.trainee_id, assignment=bank.id)
            if trainee.trainee_id not in chosen:
                if folder.is_dir():
                    for where in ("submitted", "autograded", "feedback"):
                        shutil.rmtree(step_folder(coursedir, where, student=trainee.trainee_id, assignment=bank.id),
                                      ignore_errors=True)
                result.skipped += 1
            else:
                rng = np.random.default_rng([seed, b_index, index[trainee.trainee_id]])
                answers: dict = {}
                nb = fill_submission(released[bank.id], bank, trainee, rng, record=answers)
                marks[trainee.trainee_id] = answer_marks(bank, answers)
                text = json.dumps(nb, ensure_ascii=False, indent=1) + "\n"
                folder.mkdir(parents=True, exist_ok=True)
                (folder.parent / MARKER).touch()          # before any file: the folder is simulated
                changed = _write_if_changed(folder / f"{bank.id}.ipynb", text)
                stamp = due - dt.timedelta(hours=float(rng.uniform(1, 240)))
                changed |= _write_if_changed(folder / "timestamp.txt", stamp.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
                result.submissions.add((trainee.trainee_id, bank.id))
                if changed:
                    (folder.parent / MARKER).touch()
                    # a changed submission is graded again: nbgrader only compares timestamps
                    shutil.rmtree(step_folder(coursedir, "autograded", student=trainee.trainee_id,
                                              assignment=bank.id), ignore_errors=True)
                    result.written += 1
                else:
                    result.unchanged += 1
            if tick:
                tick()
        return marks

    try:
        _remove_stale(settings, set(index))
        tables = generate_cohort(people, seed=seed, banks=banks,
                                 modules=modules if modules is not None else survey_modules(settings, banks),
                                 consultations=consultations, submit=submit,
                                 pass_mark=settings.certification if pass_mark is None else pass_mark)
        for bank in banks:
            if _bank_stage(bank) == "renewal":
                submit(bank, [])             # not submitted; an earlier run's submissions are removed
        result.files = write_tables(tables, out_dir)
        result.rows = {name: len(tables[name]) for name in TABLE_FILES}
    except PermissionError as exc:
        raise OutputError(f"cannot write {exc.filename}; check the folder's permissions") from None
    return result
