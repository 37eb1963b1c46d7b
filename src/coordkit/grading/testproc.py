"""The separate process that runs the course's tests against a submission's answers (read as data).

LiteralExecute (coordkit.nbgrader_plugins) never runs a test in the process that runs nbgrader and
writes the gradebook: `run_tests_apart` runs each notebook's tests in a process of their own, forked
for that notebook only, with CPU, memory and wall-clock limits; nothing a test changes in its process
reaches the next notebook, and a test that loops, crashes or exhausts memory scores 0 with a note.

Forking the grading process itself costs more than the tests do (it holds nbgrader, nbconvert,
SQLAlchemy: over a hundred MB of pages to copy and tear down for every notebook). So each grading
process starts, on first use, one small helper (`python -m coordkit.grading.testproc`): a fresh interpreter
that imports only coordkit.checks and holds nothing of any submission. For each notebook it is sent
the tests and the literal answers, forks a test process from itself (cheap: it is small) and sends
back the outcomes. The helper is used only by `coordkit grade`'s workers (multiprocessing children,
which grade many notebooks each): it ends with its worker (parent-death signal, end of its input,
and the worker reaps it at exit), so no process outlives the run. Anywhere else (`nbgrader autograde`,
Formgrader, a direct call), or if the helper cannot be started or stops answering, the grading
process forks the test process itself.

Nothing here reads a notebook: the tests are the course's cells from the gradebook and the values
are what ast.literal_eval gave (strings, numbers, tuples...), pickled between processes the grader
started.
"""

from __future__ import annotations

import ast
import os
import pickle
import struct
import sys

FORMAT_ERRORS = {"AnswerFormatError"}
_HEADER = struct.Struct("!Q")


def run_test(source: str, namespace: dict, *, name: str = "test"):
    """Run one test cell of the course (its own code) in `namespace`, as IPython would: the value of
    a last expression is the result. Returns ("pass", None) | ("result", value) | ("error", exc)."""
    try:
        tree = ast.parse(source)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, f"<{name}>", "exec"), namespace)    # noqa: S102 - the course's own test code
        value = eval(compile(ast.Expression(last.value), f"<{name}>", "eval"), namespace) if last else None
    except Exception as exc:  # noqa: BLE001 - a failing test is a score of 0, whatever it raises
        return "error", exc
    return ("result", value) if value is not None else ("pass", None)


def _error_parts(exc: BaseException) -> tuple[str, str, list[str]]:
    ename, evalue = type(exc).__name__, str(exc)
    render = getattr(exc, "_render_traceback_", None)
    lines = render() if callable(render) and ename in FORMAT_ERRORS else [f"{ename}: {evalue}"]
    return ename, evalue, [str(l) for l in lines]


def _outcome(kind: str, value) -> tuple:
    """A test's outcome as plain data (what crosses from the test process to nbgrader's)."""
    if kind == "error":
        return "error", _error_parts(value)
    if kind == "result":
        return "result", repr(value)
    return "pass", None


def run_tests(tests: list[tuple[str, str]], namespace: dict) -> list[tuple]:
    """Run the course's test cells (grade_id, source) in order, each in a fresh copy of `namespace`
    (the answers, read as data); their outcomes as plain data (see _outcome)."""
    return [_outcome(*run_test(source, {"__name__": "__main__", **namespace}, name=gid)) for gid, source in tests]


def _failed(tests, why: str) -> list[tuple]:
    return [("error", ("TestError", why, [f"TestError: {why}"])) for _ in tests]


def run_forked(tests: list[tuple[str, str]], namespace: dict, *, seconds: int = 60,
               memory_bytes: int = 2048 * 1024 * 1024, die_with_parent: bool = False) -> list[tuple]:
    """run_tests in a fork of this process, with a CPU, memory and wall-clock limit."""
    import select
    import signal
    import time

    if not hasattr(os, "fork"):
        return run_tests(tests, namespace)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:                                   # the test process
        code = 0
        try:
            os.close(read_fd)
            if die_with_parent:
                _die_with_parent()
            import resource

            # one second above the wall-clock budget: a single thread cannot use more CPU than wall time,
            # so a loop always ends by the budget, with its reason ("took longer than N s"), and the
            # CPU limit only stops what the wall clock would miss
            resource.setrlimit(resource.RLIMIT_CPU, (seconds + 1, seconds + 1))
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
            data = pickle.dumps(run_tests(tests, namespace))
            with os.fdopen(write_fd, "wb") as out:
                out.write(data)
        except BaseException:                     # noqa: BLE001 - reported by the parent as a failure
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    chunks, deadline, reason = [], time.monotonic() + seconds, None
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                reason = f"the tests took longer than {seconds} s"
                break
            ready, _, _ = select.select([read_fd], [], [], left)
            if ready:
                chunk = os.read(read_fd, 1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
    finally:
        os.close(read_fd)
        if reason:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if reason is None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        try:
            return pickle.loads(b"".join(chunks))
        except Exception:                          # noqa: BLE001 - a truncated answer: below
            pass
    return _failed(tests, reason or "the test process stopped (memory or CPU limit, or a crash)")


def _die_with_parent() -> None:
    """Linux: this process is killed when its parent ends (no orphan outlives grading)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)          # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


# --- the helper and its client -----------------------------------------------------------------------

def _write_frame(fd: int, payload: bytes) -> None:
    data = _HEADER.pack(len(payload)) + payload
    while data:
        data = data[os.write(fd, data):]


def _read_exact(fd: int, size: int, deadline: float | None) -> bytes | None:
    import select
    import time

    parts, got = [], 0
    while got < size:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
        chunk = os.read(fd, min(size - got, 1 << 20))
        if not chunk:
            return None
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def _read_frame(fd: int, deadline: float | None) -> bytes | None:
    head = _read_exact(fd, _HEADER.size, deadline)
    return None if head is None else _read_exact(fd, _HEADER.unpack(head)[0], deadline)


class TestServerGone(RuntimeError):
    """The helper could not be started or stopped answering."""


class _TestServer:
    """The grading process's end of the helper (one per process, see `_server`)."""

    def __init__(self):
        import subprocess

        self.pid_of_owner = os.getpid()
        self.proc = subprocess.Popen([sys.executable, "-m", "coordkit.grading.testproc", str(os.getpid())],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     close_fds=True)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def run(self, tests, namespace, *, seconds: int, memory_bytes: int) -> list[tuple]:
        import time

        try:
            _write_frame(self.proc.stdin.fileno(), pickle.dumps((tests, namespace, seconds, memory_bytes)))
        except OSError as exc:
            raise TestServerGone(str(exc)) from None
        reply = _read_frame(self.proc.stdout.fileno(), time.monotonic() + seconds + 10)
        if reply is None:
            raise TestServerGone("no answer")
        return pickle.loads(reply)

    def stop(self) -> None:
        if self.pid_of_owner != os.getpid():
            return                                  # a forked copy: the helper is not this process's
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=2)
        except Exception:                           # noqa: BLE001 - whatever state it is in: killed below
            pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


_SERVERS: dict[int, _TestServer] = {}       # pid -> this process's helper (never a parent's, after fork)


def _server() -> _TestServer | None:
    server = _SERVERS.get(os.getpid())
    if server is not None and server.alive():
        return server
    if server is not None:
        server.stop()
    _SERVERS.clear()                            # a parent's helper (inherited by fork) is not ours
    try:
        server = _SERVERS[os.getpid()] = _TestServer()
    except OSError:
        return None
    import atexit
    from multiprocessing import util

    atexit.register(server.stop)                # a plain process (nbgrader autograde)
    util.Finalize(server, server.stop, exitpriority=10)    # a multiprocessing worker (coordkit grade)
    return server


def run_tests_apart(tests: list[tuple[str, str]], namespace: dict, *, seconds: int = 60,
                    memory_bytes: int = 2048 * 1024 * 1024, helper: bool | None = None) -> list[tuple]:
    """run_tests in a separate process (see the module docstring): forked for these tests by this
    process's helper (helper=None: in a multiprocessing worker only), or by this process; with a CPU,
    memory and wall-clock limit. Falls back to this process where fork does not exist."""
    if not hasattr(os, "fork"):
        return run_tests(tests, namespace)
    if helper is None:
        import multiprocessing

        helper = multiprocessing.parent_process() is not None
    server = _server() if helper else None
    if server is not None:
        try:
            return server.run(tests, namespace, seconds=seconds, memory_bytes=memory_bytes)
        except TestServerGone:
            server.stop()
            _SERVERS.pop(os.getpid(), None)
    return run_forked(tests, namespace, seconds=seconds, memory_bytes=memory_bytes)


def main(argv: list[str]) -> int:
    """The helper: one request (tests, values, limits) at a time on stdin, outcomes on stdout."""
    owner = int(argv[0]) if argv else None
    _die_with_parent()
    if owner is not None and os.getppid() != owner:
        return 0                                    # the grading process is already gone
    import coordkit.checks  # noqa: F401 - what the course's tests import, once
    import resource  # noqa: F401

    stdin, stdout = sys.stdin.buffer.fileno(), sys.stdout.buffer.fileno()
    while True:
        request = _read_frame(stdin, None)
        if request is None:                         # the grading process is done
            return 0
        tests, namespace, seconds, memory_bytes = pickle.loads(request)
        outcomes = run_forked(tests, namespace, seconds=seconds, memory_bytes=memory_bytes, die_with_parent=True)
        _write_frame(stdout, pickle.dumps(outcomes))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
