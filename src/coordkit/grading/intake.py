"""Before and after grading one submission, without running anything: is it a submission nbgrader
can grade (preflight: links, special files, sizes, UTF-8, JSON, the right notebook), what to note
about it (deleted, duplicated and edited cells), its fingerprint (a quarantined one is checked again
when its files change), the notebook made gradable (deduplicate), and the reasons and notes read from
a run's log, outputs and sandbox report (why it was quarantined, what was cut or refused). The
security-relevant checks are unit-tested without a kernel (tests/unit/test_preflight.py)."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from .sandbox import Limits


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


# --- after a run: why it failed, what to note -----------------------------------------------------

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
