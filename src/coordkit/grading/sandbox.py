"""The grading sandbox: what a trainee's code may do while nbgrader runs it.

Stock nbgrader runs a submission with the grader's rights: it can read other trainees' work, the
source notebooks with their solutions and the gradebook, write anywhere, start programs, and run
forever. coordkit grades every submission in a private working copy (the `autograded` folder of a
private course root, see coordkit.grading) and starts its kernel through this module
(`python -m coordkit.grading.sandbox ...` in place of `python -m ipykernel_launcher ...`), which confines it
in three layers before any trainee code runs:

1. Operating-system limits, set in the kernel process before ipykernel starts, so that every thread
   and child inherits them:
   - Landlock (Linux 5.13 and later, unprivileged, enforced by the Linux kernel, cannot be undone):
     files may be read only inside the working copy, a private HOME, the Python installation and
     import paths, /usr and /lib; written only inside the working copy and the private HOME;
     nothing may be executed (no program can be started); no TCP connection may be opened
     (ABI 4+); no signal may be sent outside the kernel process (ABI 6+).
   - resource limits: CPU seconds, address space (memory), size of any file written (a larger
     write fails with an error), no core dumps.
2. A Python audit hook (PEP 578), installed by the kernel's first line (IPKernelApp.exec_lines),
   which refuses, with a PermissionError naming what was refused: opening, listing, changing or
   removing files outside those folders (symbolic links are never created); starting programs or
   processes (subprocess, os.system, exec, spawn, fork); ctypes; changing resource limits; signals
   to other processes, timers; tracing and profiling; walking the garbage collector and other
   threads' frames; creating code objects or replacing a function's code; network connections and
   name lookups. It also works where Landlock does not exist, and gives the trainee a readable
   message; what it refused is reported to the grader and listed in the grading summary.
   Each time IPython runs code (every top-level statement of every cell) it first restores the
   checking code that the hidden tests call (coordkit.checks, the modules it uses, builtins) to
   its state at kernel start, so that an answer cell cannot swap the checker for one that accepts
   anything (also reported).
   Threads and signal handlers stay allowed: ipykernel and pyzmq use them while running cells.
3. In the grader (SandboxedExecute, a subclass of nbgrader's Execute): the per-cell timeout; a
   wall-clock budget for the whole notebook; a kernel that stops answering (a loop that ignores
   interrupts) or dies ends the notebook, and the submission is quarantined; the output kept per
   cell is capped in bytes (errors are always kept, so a score never changes because output was
   cut); before the first cell, a check that the guard is active (if not, nothing is run).
   The kernel is started and stopped without jupyter_client's fixed waits (0.2 s of listening for
   stray start-up output, 0.1 s polling steps), which changes no output and no score.

The grader side (layer 3: SandboxedExecute, its kernel start and stop, the budgets) is
coordkit.grading.sandboxed_execute, so that the kernel imports only this module.

Limits, stated honestly:
- The audit hook and the checker restore run inside the trainee's interpreter. PEP 578 hooks are
  not a security boundary: a trainee who knows CPython internals (objects whose finalisers run at
  a chosen moment, a signal handler, crafted bytecode, interpreter bugs) can defeat layer 2 and
  make a hidden test pass. What then still holds is what the operating system and the grader
  enforce: layer 1 (Landlock's file, program, TCP and signal limits; the resource limits) and
  layer 3 (time and output budgets). Hidden tests are only as trustworthy as the interpreter they
  run in; for high-stakes examinations, also grade in a container or as a separate Unix user.
- Without Landlock (older Linux kernels, macOS, Windows) only layers 2 and 3 apply; the grading
  summary says which layers were active.
- Reading /usr and the Python installation is allowed (world-readable software, no course data).
  RLIMIT_NPROC is not set (it counts every process of the user, and root ignores it): a fork is
  refused by the audit hook only, and a fork could not start a program anyway (Landlock).
- Run as root, the kernel could raise its own resource limits; the audit hook refuses that.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from dataclasses import asdict, dataclass, field

POLICY_ARG = "--coordkit-policy="
STATUS_ENV = "COORDKIT_SANDBOX_STATUS"
REFUSED_ENV = "COORDKIT_SANDBOX_REFUSED"       # what the guard refused (for the grading notes)
REPORT = "sandbox.json"                        # written by the grader next to the kernel's HOME
KERNEL_LOG = "kernel.log"                      # the kernel's stdout and stderr, next to its HOME
_POLICY_ENV = "COORDKIT_SANDBOX_POLICY"
MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Sizes in bytes, times in seconds."""

    cell_timeout: int | None = None           # None: the course's nbgrader_config.py (Execute.timeout)
    notebook_seconds: int = 300               # wall clock for a whole notebook
    cpu_seconds: int = 120                    # CPU time of the kernel process
    memory_bytes: int = 2048 * MiB            # address space of the kernel process
    file_bytes: int = 8 * MiB                 # largest file the trainee's code may write
    output_bytes: int = 1 * MiB               # output kept per cell (errors are always kept)
    submission_bytes: int = 20 * MiB          # the whole submitted folder, checked before grading
    submission_files: int = 100               # files and folders in a submitted folder, checked before grading
    notebook_bytes: int = 5 * MiB             # one submitted notebook, checked before it is read

    def __post_init__(self):
        for name, value in asdict(self).items():
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value <= 0):
                raise ValueError(f"{name} must be a positive whole number (got {value!r})")


@dataclass(frozen=True)
class Policy:
    """Where one kernel may read and write. `workdir` is the submission's working copy."""

    workdir: str
    home: str
    deny: tuple[str, ...] = ()                # folders never opened up by the automatic read list
    limits: Limits = field(default_factory=Limits)

    def encode(self) -> str:
        return base64.urlsafe_b64encode(json.dumps(asdict(self)).encode()).decode()

    @classmethod
    def decode(cls, text: str) -> "Policy":
        data = json.loads(base64.urlsafe_b64decode(text.encode()))
        return cls(workdir=data["workdir"], home=data["home"], deny=tuple(data["deny"]),
                   limits=Limits(**data["limits"]))


# --- Landlock (Linux) ------------------------------------------------------------------------------

_SYS_CREATE, _SYS_ADD_RULE, _SYS_RESTRICT = 444, 445, 446   # the same number on every architecture
_FS = {name: 1 << bit for bit, name in enumerate(
    ["EXECUTE", "WRITE_FILE", "READ_FILE", "READ_DIR", "REMOVE_DIR", "REMOVE_FILE", "MAKE_CHAR",
     "MAKE_DIR", "MAKE_REG", "MAKE_SOCK", "MAKE_FIFO", "MAKE_BLOCK", "MAKE_SYM", "REFER", "TRUNCATE",
     "IOCTL_DEV"])}
_FS_BY_ABI = {1: 1 << 13, 2: 1 << 14, 3: 1 << 15, 4: 1 << 15, 5: 1 << 16}   # bits handled per ABI
_READ = _FS["READ_FILE"] | _FS["READ_DIR"]
_WRITE = (_READ | _FS["WRITE_FILE"] | _FS["REMOVE_DIR"] | _FS["REMOVE_FILE"] | _FS["MAKE_DIR"]
          | _FS["MAKE_REG"] | _FS["REFER"] | _FS["TRUNCATE"])
_FILE_RIGHTS = _FS["EXECUTE"] | _FS["WRITE_FILE"] | _FS["READ_FILE"] | _FS["TRUNCATE"] | _FS["IOCTL_DEV"]
_NET_CONNECT = 2
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1, 2


def _libc():
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return ctypes, libc


def landlock_abi() -> int:
    """The Landlock ABI version of the running Linux kernel (0: not available)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        ctypes, libc = _libc()
        abi = libc.syscall(_SYS_CREATE, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    except (OSError, AttributeError):
        return 0
    return max(int(abi), 0)


def _landlock(read_dirs: list[str], read_files: list[str], write_dirs: list[str]) -> int:
    """Restrict this process (and every thread and child created after) to the given paths."""
    abi = landlock_abi()
    if abi < 1:
        return 0
    ctypes, libc = _libc()

    class RulesetAttr(ctypes.Structure):
        _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]

    class PathBeneath(ctypes.Structure):
        _pack_ = 1
        _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]

    handled = _FS_BY_ABI.get(abi, 1 << 16) - 1
    # TCP: no new connection; binding stays allowed (ipykernel binds a local pipe for its output)
    attr = RulesetAttr(fs=handled, net=_NET_CONNECT if abi >= 4 else 0,
                       scoped=(_SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL) if abi >= 6 else 0)
    size = ctypes.sizeof(RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    ruleset = libc.syscall(_SYS_CREATE, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        def allow(path: str, rights: int) -> None:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            try:
                is_dir = os.path.isdir(path)
                rule = PathBeneath(allowed=(rights if is_dir else rights & _FILE_RIGHTS) & handled,
                                   parent_fd=fd)
                if libc.syscall(_SYS_ADD_RULE, ruleset, 1, ctypes.byref(rule), 0) < 0:
                    raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
            finally:
                os.close(fd)

        for path in read_dirs + read_files:
            allow(path, _READ)
        for path in write_dirs:
            allow(path, _WRITE)
        if os.path.exists("/dev/null"):
            allow("/dev/null", _FS["READ_FILE"] | _FS["WRITE_FILE"] | _FS["TRUNCATE"])
        if libc.prctl(38, 1, 0, 0, 0) != 0:                       # PR_SET_NO_NEW_PRIVS
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if libc.syscall(_SYS_RESTRICT, ruleset, 0) < 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)
    return abi


# --- in the kernel process ---------------------------------------------------------------------------

def _inside(path: str, roots) -> bool:
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def read_roots(policy: Policy) -> tuple[list[str], list[str]]:
    """Folders and files the kernel may read besides its own folders: the Python installation and
    every import path, the system libraries, and a few files libraries open. A candidate that holds
    a denied folder (the course root) or lies inside one is left out."""
    import sysconfig

    deny = [os.path.realpath(d) for d in policy.deny]
    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                  *sysconfig.get_paths().values(), *sys.path, "/usr", "/lib", "/lib64", "/lib32"}
    try:
        import coordkit

        candidates.update(coordkit.__path__)
    except ImportError:
        pass
    dirs = set()
    for raw in candidates:
        if not raw or not os.path.isdir(raw):
            continue
        path = os.path.realpath(raw)
        if any(_inside(d, [path]) or _inside(path, [d]) for d in deny):
            continue
        dirs.add(path)
    files = [f for f in ("/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf", "/etc/passwd",
                         "/etc/group", "/dev/urandom", "/dev/zero") if os.path.exists(f)]
    return sorted(dirs), files


def confine(policy: Policy, *, connection_file: str | None = None) -> dict:
    """Layer 1, in the kernel process before ipykernel starts: private HOME and temporary folder,
    resource limits, Landlock. Returns what was applied."""
    import resource
    import signal

    home = os.path.realpath(policy.home)
    workdir = os.path.realpath(policy.workdir)
    for sub in ("", "tmp", ".ipython", ".cache", ".config/matplotlib"):
        os.makedirs(os.path.join(home, sub), exist_ok=True)
    os.environ.update({
        "HOME": home, "TMPDIR": os.path.join(home, "tmp"), "IPYTHONDIR": os.path.join(home, ".ipython"),
        "XDG_CACHE_HOME": os.path.join(home, ".cache"), "XDG_CONFIG_HOME": os.path.join(home, ".config"),
        "MPLCONFIGDIR": os.path.join(home, ".config/matplotlib"), "PYTHONDONTWRITEBYTECODE": "1",
        "JUPYTER_RUNTIME_DIR": os.path.join(home, "tmp"),
    })
    sys.dont_write_bytecode = True
    lim = policy.limits
    resource.setrlimit(resource.RLIMIT_CPU, (lim.cpu_seconds, lim.cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_AS, (lim.memory_bytes, lim.memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (lim.file_bytes, lim.file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)     # an oversized write fails with an error instead
    files = [os.path.realpath(connection_file)] if connection_file else []
    dirs, more_files = read_roots(policy)
    abi = _landlock(dirs, files + more_files, [workdir, home])
    return {"landlock_abi": abi, "read": dirs, "write": [workdir, home]}


def _guard_hook(policy: Policy, read_dirs: list[str], read_files: list[str]):
    """The audit hook (layer 2) and the checker restore. Everything it needs is bound here, as
    immutable values, before trainee code runs."""
    import builtins
    import gc
    import importlib
    import types

    realpath, fsdecode, getpid = os.path.realpath, os.fsdecode, os.getpid
    writable = (os.path.realpath(policy.workdir), os.path.realpath(policy.home))
    readable = tuple(read_dirs) + writable
    readable_files = frozenset(read_files) | {"/dev/null"}
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
    inside = _inside

    refused: list[str] = []

    def record(what: str):
        if len(refused) < 20 and what not in refused:
            refused.append(what)
            os.environ[REFUSED_ENV] = json.dumps(refused, ensure_ascii=False)

    def refuse(what: str):
        record(what)
        raise PermissionError(f"coordkit sandbox: {what} is not allowed while grading "
                              "(only the submission's own folder may be used)")

    def resolve(path):
        if isinstance(path, int) or path is None:
            return None
        return realpath(fsdecode(path))

    def check_read(path):
        p = resolve(path)
        if p is not None and not (inside(p, readable) or p in readable_files):
            refuse(f"reading {p}")

    def check_write(path):
        p = resolve(path)
        if p is not None and not (inside(p, writable) or p == "/dev/null"):
            refuse(f"changing {p}")

    def on_open(args):
        path, mode, flags = (tuple(args) + (None, None, None))[:3]
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
                  (isinstance(flags, int) and flags & write_flags)
        (check_write if writing else check_read)(path)

    def first_writes(args):
        check_write(args[0])

    def both_write(args):
        check_write(args[0])
        check_write(args[1])

    def on_copy(args):
        check_read(args[0])
        check_write(args[1])

    def on_kill(args):
        if args[0] != getpid():
            refuse(f"signalling process {args[0]}")

    def never(what):
        return lambda args: refuse(what)

    handlers = {
        "open": on_open,
        "os.listdir": lambda a: check_read(a[0] if a and a[0] is not None else "."),
        "os.scandir": lambda a: check_read(a[0] if a and a[0] is not None else "."),
        "os.chdir": first_writes, "os.remove": first_writes, "os.rmdir": first_writes,
        "os.mkdir": first_writes, "os.truncate": first_writes, "os.utime": first_writes,
        "os.chmod": first_writes, "os.chown": first_writes, "os.chflags": first_writes,
        "os.lchflags": first_writes, "os.setxattr": first_writes, "os.removexattr": first_writes,
        "os.rename": both_write, "shutil.copyfile": on_copy, "shutil.copymode": on_copy,
        "sqlite3.connect": lambda a: check_write(None if a[0] == ":memory:" else a[0]),
        "shutil.copystat": on_copy, "shutil.copytree": on_copy, "shutil.move": both_write,
        "shutil.rmtree": first_writes, "shutil.chown": first_writes,
        "os.link": never("creating links"), "os.symlink": never("creating symbolic links"),
        "os.kill": on_kill, "os.killpg": never("signalling a process group"),
        "signal.pthread_kill": never("signalling threads"),
        "subprocess.Popen": never("starting a program"), "os.system": never("starting a program"),
        "os.exec": never("starting a program"), "os.posix_spawn": never("starting a program"),
        "os.spawn": never("starting a program"), "os.fork": never("starting a process"),
        "os.forkpty": never("starting a process"), "pty.spawn": never("starting a program"),
        "os.startfile": never("starting a program"),
        "resource.setrlimit": never("changing resource limits"),
        "resource.prlimit": never("changing resource limits"),
        "sys.settrace": never("tracing"), "sys.setprofile": never("profiling"),
        "sys._current_frames": never("inspecting frames"),
        "gc.get_objects": never("walking the garbage collector"),
        "gc.get_referrers": never("walking the garbage collector"),
        "gc.get_referents": never("walking the garbage collector"),
        "code.__new__": never("creating code objects"), "code.replace": never("creating code objects"),
        "socket.connect": never("network connections"), "socket.bind": never("network connections"),
        "socket.sendto": never("network connections"), "socket.sendmsg": never("network connections"),
        "socket.getaddrinfo": never("network connections"),
        "socket.gethostbyname": never("network connections"),
    }
    refused_imports = frozenset({"ctypes", "_ctypes", "cffi", "_cffi_backend"})

    # what the hidden tests call: coordkit.checks, the modules and functions it uses, builtins
    checks = importlib.import_module("coordkit.checks")
    import _signal
    import signal as signal_module

    def no_timer(*_args, **_kwargs):
        refuse("setting timers or signalling threads")

    # applied by the first restore, when the first cell runs; signal.signal and threads stay
    # allowed: ipykernel and pyzmq use them while running cells
    overrides = {}
    for name in ("setitimer", "alarm", "pthread_kill"):
        overrides[("signal", name)] = overrides[("_signal", name)] = no_timer

    guarded = {"builtins": builtins, "coordkit": sys.modules["coordkit"], "coordkit.checks": checks,
               "_signal": _signal, "signal": signal_module}
    for value in vars(checks).values():
        if isinstance(value, types.ModuleType):
            guarded.setdefault(value.__name__, value)
    kinds = (types.FunctionType, types.BuiltinFunctionType, types.ModuleType, type, types.MethodType)
    skip = frozenset({"_", "__", "___", "input"})         # ipykernel rebinds input() per request
    snapshot = tuple((name, mod, tuple((k, overrides.get((name, k), v)) for k, v in vars(mod).items()
                                       if isinstance(v, kinds) and k not in skip))
                     for name, mod in guarded.items())
    protected = frozenset(id(v) for _, _, items in snapshot for _, v in items
                          if isinstance(v, (types.FunctionType, type)))
    purge = getattr(sys.modules.get("re"), "purge", None)
    modules = sys.modules
    missing = object()

    first = [True]

    def restore(_args):
        changed = []
        for name, mod, items in snapshot:
            if modules.get(name) is not mod:
                modules[name] = mod
                changed.append(name)
            d = vars(mod)
            for k, v in items:
                if d.get(k, missing) is not v:
                    d[k] = v
                    changed.append(f"{name}.{k}")
        if purge is not None:
            purge()
        if first[0]:                       # the first restore installs the overrides
            first[0] = False
        elif changed:
            record(f"changing the checking code ({', '.join(changed[:3])}; undone at once)")

    def on_setattr(args):
        obj, name = args[0], args[1]
        if name == "__code__" or id(obj) in protected:
            refuse(f"changing {name} of {getattr(obj, '__qualname__', type(obj).__name__)}")

    handlers["exec"] = restore
    handlers["object.__setattr__"] = on_setattr
    handlers["object.__delattr__"] = on_setattr
    handlers_get = handlers.get

    def hook(event, args):
        handler = handlers_get(event)
        if handler is not None:
            handler(args)
        elif event == "import":
            if args[0] in refused_imports:
                refuse(f"importing {args[0]}")
        elif event.startswith("ctypes."):
            refuse("ctypes")

    gc.collect()
    return hook


def guard() -> None:
    """Layer 2, run as the kernel's first line (IPKernelApp.exec_lines). On any failure the kernel
    exits at once, so that no trainee code runs unguarded."""
    try:
        policy = Policy.decode(os.environ.pop(_POLICY_ENV))
        dirs, files = read_roots(policy)
        status = json.loads(os.environ.get(STATUS_ENV, "{}"))
        hook = _guard_hook(policy, dirs, files)
        sys.addaudithook(hook)
        status["audit_hook"] = True
        os.environ[STATUS_ENV] = json.dumps(status)
    except BaseException as exc:  # noqa: BLE001 - fail closed
        sys.__stderr__.write(f"coordkit sandbox: cannot install the guard ({exc!r}); stopping the kernel\n")
        sys.__stderr__.flush()
        os._exit(70)


def main(argv: list[str] | None = None) -> None:
    """`python -m coordkit.grading.sandbox --coordkit-policy=... -f <connection file>`: confine this process,
    then start an IPython kernel whose first line installs the guard."""
    argv = list(sys.argv[1:] if argv is None else argv)
    encoded = next((a for a in argv if a.startswith(POLICY_ARG)), None)
    try:
        if encoded is None:
            raise ValueError("no policy given")
        argv.remove(encoded)
        policy = Policy.decode(encoded[len(POLICY_ARG):])
        connection = argv[argv.index("-f") + 1] if "-f" in argv else None
        applied = confine(policy, connection_file=connection)
        os.environ[_POLICY_ENV] = policy.encode()
        os.environ[STATUS_ENV] = json.dumps({"landlock_abi": applied["landlock_abi"], "audit_hook": False})
    except BaseException as exc:  # noqa: BLE001 - fail closed
        sys.stderr.write(f"coordkit sandbox: cannot confine the kernel ({exc!r}); not starting it\n")
        sys.stderr.flush()
        os._exit(70)
    from ipykernel import kernelapp

    # ignore_cwd: the submission's folder is not an import path, so a file in it named like a module
    # the kernel imports later cannot run before the guard (the launcher itself runs with -I)
    kernelapp.launch_new_instance(argv=argv, ignore_cwd=True,
                                  exec_lines=["__import__('coordkit.grading.sandbox').grading.sandbox.guard()"])


# --- in the grader -----------------------------------------------------------------------------------

def describe(status: dict) -> str:
    """One line for the grading summary: which layers were active."""
    abi = status.get("landlock_abi", 0)
    layers = [f"Landlock ABI {abi} (files, exec, TCP{', signals' if abi >= 6 else ''})" if abi
              else "no Landlock on this system", "resource limits",
              "audit hook" if status.get("audit_hook") else "NO audit hook", "time and output budgets"]
    return " + ".join(layers)


def __getattr__(name: str):
    """`execute_preprocessor` moved to coordkit.grading.sandboxed_execute (the grader side); its old
    name here keeps working."""
    if name == "execute_preprocessor":
        from .sandboxed_execute import execute_preprocessor

        return execute_preprocessor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    main()
