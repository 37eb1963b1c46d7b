"""The grader-side sandbox's decisions (coordkit.grading.sandbox), checked directly and without a kernel: the audit
hook's verdict on each event a trainee's code can raise, the read list, the policy and limits that reach the
kernel. tests/notebooks/test_hostile.py runs real hostile submissions through a sandboxed kernel."""

import os
import signal
import sys

import pytest

from coordkit.grading import sandbox
from coordkit.grading.sandbox import Limits, Policy


@pytest.fixture
def course(tmp_path):
    root = tmp_path / "course"
    work = root / "autograded" / "tr001" / "cs01_job_loss"
    home = tmp_path / "home"
    for p in (work, home, root / "source"):
        p.mkdir(parents=True)
    return root, work, home


@pytest.fixture
def hook(course, monkeypatch):
    """The audit hook as the kernel installs it, but called by the test instead of by Python."""
    root, work, home = course
    monkeypatch.delenv(sandbox.REFUSED_ENV, raising=False)
    saved = {mod: dict(vars(mod)) for mod in (signal, sys.modules["_signal"])}
    policy = Policy(workdir=str(work), home=str(home), deny=(str(root),))
    dirs, files = sandbox.read_roots(policy)
    yield sandbox._guard_hook(policy, dirs, files)
    for mod, items in saved.items():            # the first "exec" event installs the timer overrides
        vars(mod).update(items)


def refused(hook, event, *args):
    try:
        hook(event, args)
    except PermissionError as exc:
        assert str(exc).startswith("coordkit sandbox: ") and "not allowed while grading" in str(exc)
        return True
    return False


def test_reading_and_writing_inside_the_working_copy_and_home_is_allowed(hook, course):
    _, work, home = course
    for path in (work / "answer.txt", home / "tmp" / "x", work):
        assert not refused(hook, "open", str(path), "r", os.O_RDONLY)
        assert not refused(hook, "open", str(path), "w", os.O_WRONLY | os.O_CREAT)
    assert not refused(hook, "os.listdir", str(work))
    assert not refused(hook, "open", "/dev/null", "w", os.O_WRONLY)


def test_the_course_root_and_other_trainees_are_out_of_reach(hook, course, monkeypatch):
    root, _, _ = course
    for path in (root / "source" / "cs01_job_loss" / "cs01_job_loss.ipynb", root / "gradebook.db",
                 root / "autograded" / "tr002" / "cs01_job_loss" / "cs01_job_loss.ipynb", "/etc/shadow"):
        assert refused(hook, "open", str(path), "r", os.O_RDONLY), path
    assert refused(hook, "os.listdir", str(root / "autograded"))
    assert refused(hook, "os.scandir", str(root))
    assert refused(hook, "sqlite3.connect", str(root / "gradebook.db"))
    assert not refused(hook, "sqlite3.connect", ":memory:")
    # and what was refused reaches the grader, for the grading notes
    assert f"reading {root / 'source' / 'cs01_job_loss' / 'cs01_job_loss.ipynb'}" in os.environ[sandbox.REFUSED_ENV]


def test_the_python_installation_is_readable_but_not_writable(hook):
    assert not refused(hook, "open", os.__file__, "r", os.O_RDONLY)
    assert refused(hook, "open", os.__file__, "a", os.O_WRONLY | os.O_APPEND)
    assert refused(hook, "os.remove", os.__file__)


def test_a_write_or_rename_that_leaves_the_working_copy_is_refused(hook, course):
    root, work, _ = course
    assert refused(hook, "os.rename", str(work / "a"), str(root / "a"))
    assert refused(hook, "shutil.copyfile", str(root / "gradebook.db"), str(work / "copy.db"))
    assert not refused(hook, "shutil.copyfile", str(work / "a"), str(work / "b"))
    assert refused(hook, "os.chdir", str(root))


@pytest.mark.parametrize("event, args", [
    ("subprocess.Popen", ("sh", ["sh"], None, None)), ("os.system", ("id",)), ("os.exec", ("sh", ["sh"], None)),
    ("os.posix_spawn", ("sh", ["sh"], None)), ("os.fork", ()), ("pty.spawn", ("sh",)),
    ("socket.connect", (None, ("127.0.0.1", 5432))), ("socket.getaddrinfo", ("example.org", 80, 0, 0, 0)),
    ("os.symlink", ("/etc", "etc", None)), ("os.link", ("/etc/passwd", "p", None, None, None)),
    ("resource.setrlimit", (0, (1, 1))), ("sys.settrace", ()), ("sys._current_frames", ()),
    ("gc.get_referrers", ()), ("code.__new__", (None, "x", "f", 1)), ("os.killpg", (1, 9)),
    ("import", ("ctypes", None, None, None, None)), ("ctypes.dlopen", ("libc.so.6",)),
])
def test_programs_network_links_limits_and_introspection_are_refused(hook, event, args):
    assert refused(hook, event, *args)


def test_signals_only_to_the_kernel_itself(hook):
    assert not refused(hook, "os.kill", os.getpid(), 0)
    assert refused(hook, "os.kill", 1, signal.SIGTERM)


def test_ordinary_imports_are_allowed(hook):
    for name in ("pandas", "json", "coordkit.checks"):
        assert not refused(hook, "import", name, None, None, None, None)


def test_each_cell_restores_the_checking_code(hook):
    import coordkit.checks as checks

    name = next(k for k, v in vars(checks).items() if callable(v) and not k.startswith("_"))
    original = getattr(checks, name)
    hook("exec", (None,))                              # the first cell: snapshot applied, nothing reported
    setattr(checks, name, lambda *a, **k: True)        # an answer cell swaps the checker for one that accepts all
    hook("exec", (None,))                              # the next statement: undone before it runs
    assert getattr(checks, name) is original
    assert f"coordkit.checks.{name}" in os.environ[sandbox.REFUSED_ENV]
    assert refused(hook, "object.__setattr__", original, "__code__", None)


def test_the_read_list_never_opens_a_denied_folder(tmp_path):
    inside = tmp_path / "course" / "lib"
    inside.mkdir(parents=True)
    sys.path.insert(0, str(inside))
    try:
        dirs, _ = sandbox.read_roots(Policy(workdir=str(tmp_path / "w"), home=str(tmp_path / "h"),
                                            deny=(str(tmp_path / "course"),)))
        assert str(inside) not in dirs
        dirs, _ = sandbox.read_roots(Policy(workdir=str(tmp_path / "w"), home=str(tmp_path / "h")))
        assert os.path.realpath(inside) in dirs
    finally:
        sys.path.remove(str(inside))
    # a candidate holding the denied folder (e.g. / or the checkout) is left out too
    dirs, _ = sandbox.read_roots(Policy(workdir="w", home="h", deny=(sys.prefix,)))
    assert os.path.realpath(sys.prefix) not in dirs and "/" not in dirs


def test_the_policy_reaches_the_kernel_unchanged():
    policy = Policy(workdir="/w", home="/h", deny=("/course",), limits=Limits(cell_timeout=5, cpu_seconds=9))
    assert Policy.decode(policy.encode()) == policy


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "10"])
def test_limits_must_be_positive_whole_numbers(bad):
    with pytest.raises(ValueError, match="cpu_seconds must be a positive whole number"):
        Limits(cpu_seconds=bad)


def test_the_summary_says_which_layers_were_active():
    assert sandbox.describe({"landlock_abi": 6, "audit_hook": True}) == (
        "Landlock ABI 6 (files, exec, TCP, signals) + resource limits + audit hook + time and output budgets")
    assert "no Landlock on this system" in sandbox.describe({"audit_hook": True})
    assert "NO audit hook" in sandbox.describe({"landlock_abi": 3})


# --- the private jupyter_client interfaces the grader side relies on (see the sandbox module docstring) ---

PRIVATE_USED = {"_handle_kernel_info_reply", "_async_wait"}


def test_the_sandbox_uses_no_other_private_jupyter_interface():
    """Every private name the grader side defines or calls that jupyter_client, nbclient or nbgrader also
    has (an override or a call of theirs) is one of the two the module docstring explains."""
    import inspect
    import re

    from jupyter_client.asynchronous import AsyncKernelClient
    from jupyter_client.manager import AsyncKernelManager
    from nbgrader.preprocessors import Execute

    from coordkit.grading import sandboxed_execute

    source = inspect.getsource(sandboxed_execute.execute_preprocessor)
    names = set(re.findall(r"def (_[a-z]\w*)", source)) | set(re.findall(r"(?:self|super\(\))\.(_[a-z]\w*)", source))
    theirs = {n for n in names if any(hasattr(c, n) for c in (AsyncKernelClient, AsyncKernelManager, Execute))}
    assert theirs == PRIVATE_USED, f"private jupyter interfaces beyond the documented ones: {theirs - PRIVATE_USED}"
    for name in PRIVATE_USED:
        assert name in sandboxed_execute.__doc__


def test_the_private_jupyter_client_methods_exist_in_the_pinned_version():
    import inspect

    from jupyter_client import manager
    from jupyter_client.client import KernelClient

    assert list(inspect.signature(KernelClient._handle_kernel_info_reply).parameters) == ["self", "msg"]
    wait = inspect.signature(manager.AsyncKernelManager._async_wait).parameters
    assert wait["pollinterval"].default == 0.1
    assert "self._async_wait(pollinterval=pollinterval)" in inspect.getsource(manager)   # how shutdown calls it
    assert "self._handle_kernel_info_reply(msg)" in inspect.getsource(KernelClient._async_wait_for_ready)
