"""The deployment end to end: PostgreSQL (Debian's server, as the unprivileged `postgres` account, on a
private port in a temporary folder) and JupyterHub (deploy/jupyterhub_config.py, on 127.0.0.1) with
three trainees and two lecturers as real local accounts. Trainees fetch and submit through their own
servers behind the Hub (nbgrader's Assignments tab API and the contents API); lecturers release,
collect, grade (`coordkit grade`), mark at the same time (coordkit.marking) and release feedback, each
as their own account. Every read and write a trainee should not make is tried, and refused. The
scores equal a single-user SQLite run of the same submissions. Everything started is stopped, every
account and group created is removed.

Needs root (accounts, the Hub's spawner), Debian's postgresql and the proxy (`make hub-deps`)."""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest
from pgserver import start_postgres

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = "cs01_job_loss"
PG_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
PROXY = ROOT / "deploy" / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
SYSTEM_PYTHON = shutil.which("python3.11", path="/usr/bin") or shutil.which("python3", path="/usr/bin")

if os.geteuid() != 0:
    pytest.skip("the Hub test creates local accounts and runs the Hub's spawner: run it as root (CI does)",
                allow_module_level=True)
for need, why in ((PG_BIN, "Debian's postgresql (make hub-deps)"), (PROXY.exists(), "the proxy (make hub-deps)"),
                  (SYSTEM_PYTHON, "/usr/bin/python3 (make hub-deps)")):
    if not need:
        pytest.skip(f"needs {why}", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(n: int) -> int:
    """A port p with p .. p+n-1 free."""
    for _ in range(200):
        p = free_port()
        if p + n < 65000 and all(_free(p + k) for k in range(n)):
            return p
    raise RuntimeError("no free port range")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def run(cmd, *, check=True, **kw):
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd} -> {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


class Site:
    """Everything the test starts, and how to stop it."""

    def __init__(self, base: Path):
        self.base = base
        self.cid = "t" + secrets.token_hex(3)
        self.trainees = [f"{self.cid}-tr00{n}" for n in (1, 2, 3)]
        self.lecturers = [f"{self.cid}-lec1", f"{self.cid}-lec2"]
        self.grader = f"{self.cid}-grader"
        self.lect_group, self.trainee_group = f"{self.cid}lect", f"{self.cid}trn"
        self.users: list[str] = []
        self.groups: list[str] = []
        self.procs: list[subprocess.Popen] = []
        self.pgdata = base / "pg"
        self.pg = None
        self.timings: dict[str, float] = {}

    # accounts and environments -----------------------------------------------------------------
    def as_user(self, user: str, cmd, *, cwd=None, env=None, check=True, timeout=600):
        entry = pwd.getpwnam(user)
        base_env = {"HOME": entry.pw_dir, "USER": user, "LOGNAME": user, "LANG": "C.UTF-8",
                    "PATH": f"{self.lect_venv}/bin:/usr/bin:/bin", "MPLBACKEND": "Agg",
                    "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        base_env.update(env or {})
        wrapped = ["/bin/sh", "-c", 'umask 007 && exec "$@"', "sh", *map(str, cmd)]
        return run(wrapped, user=entry.pw_uid, group=entry.pw_gid, extra_groups=os.getgrouplist(user, entry.pw_gid),
                   cwd=cwd or entry.pw_dir, env=base_env, check=check, timeout=timeout)

    def venv(self, path: Path, *, checkout_src: bool) -> Path:
        """A venv of Debian's Python (the checkout's interpreter lives in /root, closed to other accounts)
        that sees the checkout's installed packages; with checkout_src, coordkit from the checkout."""
        run([SYSTEM_PYTHON, "-m", "venv", "--without-pip", str(path)])
        site = next(path.glob("lib/python3*/site-packages"))
        lines = [next(ROOT.glob(".venv/lib/python3*/site-packages")).as_posix()]
        if checkout_src:
            lines.append(str(ROOT / "src"))
        (site / "_coordkit_shared.pth").write_text("\n".join(lines) + "\n")
        # what installing jupyterlab and nbgrader into the venv would add: their Jupyter configuration
        # (nbgrader's enables every nbgrader server extension, Formgrader included) and data
        shutil.copytree(ROOT / ".venv" / "etc" / "jupyter", path / "etc" / "jupyter")
        (path / "share").mkdir(exist_ok=True)
        (path / "share" / "jupyter").symlink_to(ROOT / ".venv" / "share" / "jupyter")
        (path / "bin" / "alembic").write_text(f"#!{path}/bin/python\nfrom alembic.config import main\nmain()\n")
        (path / "bin" / "alembic").chmod(0o755)
        return path

    def stop(self):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        if self.pg is not None:
            self.pg.stop()
        for user in self.users:
            run(["pkill", "-KILL", "-u", user], check=False)     # only the test's own accounts
            run(["userdel", "--remove", user], check=False)
        for group in self.groups:
            run(["groupdel", group], check=False)


def hub_api(site, method, path, body=None, *, token=None, raw=False):
    token = token or site.admin_token
    req = urllib.request.Request(site.url + path, data=json.dumps(body).encode() if body is not None else None,
                                 method=method, headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            data = resp.read()
            return resp.status, (data if raw else (json.loads(data) if data else None))
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except urllib.error.URLError as exc:
        return 0, str(exc.reason)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    base = Path("/tmp") / f"coordkit-hub-{secrets.token_hex(4)}"
    base.mkdir(mode=0o755)
    s = Site(base)
    t0 = time.perf_counter()
    try:
        _start(s)
        yield s
    finally:
        s.stop()
        shutil.rmtree(base, ignore_errors=True)
        print(f"\nHub test timings: {json.dumps({k: round(v, 1) for k, v in s.timings.items()})}; "
              f"total {time.perf_counter() - t0:.1f} s")


def _start(s: Site) -> None:
    from coordkit.config import load_settings
    from coordkit.hub import create_course

    t = time.perf_counter()
    # groups and the account that runs Formgrader
    for group in (s.lect_group, s.trainee_group, f"{s.cid}adm"):
        run(["groupadd", group])
        s.groups.append(group)
    run(["useradd", "--create-home", "--groups", s.lect_group, s.grader])
    s.users.append(s.grader)

    # PostgreSQL: initdb and pg_ctl as the unprivileged postgres account, on a private port (conftest.py)
    s.pgdata.mkdir()
    s.pg = start_postgres(s.pgdata)
    s.pg_port, s.pg_password = s.pg.port, s.pg.password
    s.timings["postgres"] = time.perf_counter() - t

    # the site: a checkout as deployed (answer keys, rubrics, facts), closed to all but the lecturers
    t = time.perf_counter()
    s.checkout = s.base / "coordkit"
    s.checkout.mkdir()
    shutil.copytree(ROOT / "graders", s.checkout / "graders")
    (s.checkout / "datasets").mkdir()
    for name in ("facts.yml", "glossary.yml"):
        shutil.copy(ROOT / "datasets" / name, s.checkout / "datasets" / name)
    (s.checkout / "assignments").mkdir()
    shutil.copy(ROOT / "assignments" / "nbgrader_config.py", s.checkout / "assignments" / "nbgrader_config.py")
    s.exchange = s.base / "exchange"
    s.courses = s.base / "courses"
    s.courses.mkdir(mode=0o755)
    db = f"postgresql://coordkit:{s.pg_password}@127.0.0.1:{s.pg_port}"
    (s.checkout / "pyproject.toml").write_text(f"""[tool.coordkit]
facts = "datasets/facts.yml"
course_root = "assignments"
items_dir = "graders/items"
rubrics_dir = "graders/rubrics"
evaluation_dir = "graders/evaluation"
cohorts_dir = "datasets/cohorts"
reports_dir = "reports"
build_dir = "_build"
db_url = "{db}/gradebook_{{course}}"
register_url = "{db}/coordkit_register"
courses_dir = "{s.courses}"
exchange_root = "{s.exchange}"
lecturers_group = "{s.lect_group}"
trainees_group = "{s.trainee_group}"
""")
    s.settings = load_settings(s.checkout)
    course = create_course(s.settings, s.cid)
    s.course = course.folder
    (s.checkout / "reports").mkdir()
    from coordkit.hub import secure_tree
    import grp

    secure_tree(s.checkout, gid=grp.getgrnam(s.lect_group).gr_gid)
    os.chmod(s.checkout, 0o2750)

    # environments: the lecturers' (the checkout's packages) and the trainees' (coordkit's wheel only)
    s.lect_venv = s.venv(s.base / "lecturer-env", checkout_src=True)
    s.trainee_venv = s.venv(s.base / "trainee-env", checkout_src=False)
    from coordkit.hub import build_wheel

    wheel = build_wheel(ROOT, s.base / "wheel")
    run([sys.executable, "-m", "pip", "--python", str(s.trainee_venv / "bin" / "python"), "install", "-q",
         "--no-deps", "--no-index", str(wheel)])
    s.timings["site"] = time.perf_counter() - t

    # JupyterHub, from deploy/jupyterhub_config.py
    t = time.perf_counter()
    s.port = free_ports(14)
    s.url = f"http://127.0.0.1:{s.port}"
    env = dict(os.environ, COORDKIT_ROOT=str(s.checkout), COORDKIT_HUB_STATE=str(s.base / "hub"),
               COORDKIT_HUB_PORT=str(s.port), COORDKIT_LECTURER_PYTHON=str(s.lect_venv / "bin" / "python"),
               COORDKIT_TRAINEE_PYTHON=str(s.trainee_venv / "bin" / "python"),
               COORDKIT_GRADER_USER=s.grader, COORDKIT_ADMIN_GROUP=f"{s.cid}adm")
    log = open(s.base / "hub.log", "w")
    s.hub_log = s.base / "hub.log"
    s.procs.append(subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(ROOT / "deploy" / "jupyterhub_config.py")],
                                    cwd=s.base, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
    s.admin_token = None
    for _ in range(120):
        token_file = s.base / "hub" / "coordkit_admin_token"
        if token_file.exists():
            s.admin_token = token_file.read_text().strip()
            code, _ = hub_api(s, "GET", "/hub/api")
            if code == 200:
                break
        assert s.procs[-1].poll() is None, s.hub_log.read_text()[-4000:]
        time.sleep(0.5)
    else:
        raise AssertionError("JupyterHub did not start:\n" + s.hub_log.read_text()[-4000:])
    s.timings["hub_start"] = time.perf_counter() - t

    # the cohort's accounts from its roster: `coordkit hub users`
    t = time.perf_counter()
    roster = s.course / "roster.csv"
    rows = ["role,id,last_name,first_name,email"] + [f"trainee,,研修,{n},tr{n}@example.org" for n in (1, 2, 3)] + \
           [f"lecturer,{lec},講師,{n},lec{n}@example.org" for n, lec in enumerate(s.lecturers, 1)]
    roster.write_text("\n".join(rows) + "\n", encoding="utf-8")
    s.users += s.trainees + s.lecturers
    proc = run([sys.executable, "-m", "coordkit", "--root", str(s.checkout), "hub", "users", s.cid, "--hub-url", s.url],
               env=dict(os.environ, COORDKIT_HUB_TOKEN=s.admin_token))
    assert "system users created: 5; Hub users created: 5" in proc.stdout, proc.stdout
    s.timings["accounts"] = time.perf_counter() - t

    # each user: a token, and their server started through the REST API
    t = time.perf_counter()
    s.tokens = {}
    for user in s.trainees + s.lecturers:
        code, body = hub_api(s, "POST", f"/hub/api/users/{user}/tokens", {"note": "test", "expires_in": 3600})
        assert code in (200, 201), body
        s.tokens[user] = body["token"]
    for user in s.trainees:
        code, body = hub_api(s, "POST", f"/hub/api/users/{user}/server", token=s.tokens[user])
        assert code in (201, 202), body
    for user in s.trainees:
        for _ in range(240):
            code, body = hub_api(s, "GET", f"/hub/api/users/{user}")
            if body.get("server") and not body.get("pending"):
                break
            time.sleep(0.5)
        else:
            raise AssertionError(f"server of {user} did not start:\n" + s.hub_log.read_text()[-4000:])
    s.timings["servers"] = time.perf_counter() - t


def lecturer(site, n, *args, cwd=None, check=True):
    return site.as_user(site.lecturers[n], [site.lect_venv / "bin" / "python", *args], cwd=cwd or site.course,
                        check=check)


def trainee_api(site, user, method, path, body=None, *, as_user=None, raw=False):
    return hub_api(site, method, f"/user/{user}{path}", body, token=site.tokens[as_user or user], raw=raw)


def answer(nb, bank, quality: int) -> None:
    """quality 2: every key; 1: the first half of the keys; 0: nothing but the written answer."""
    from coordkit.banks import display_key

    autos = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id", "").endswith("_answer")]
    for k, cell in enumerate(autos):
        item = bank.item(cell.metadata["nbgrader"]["grade_id"][: -len("_answer")])
        if quality == 2 or (quality == 1 and k < len(autos) // 2):
            written = display_key(item) if item.kind in ("date", "order") else str(item.key).lower()
            cell.source = cell.source.replace(f'{item.grade_id} = ""', f'{item.grade_id} = "{written}"')
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "markdown":
            cell.source = "子どもの受診を最初にします。次に、期限のある届出をします。"


def refused(site, user, code: str) -> tuple[bool, str]:
    """Run a Python snippet as `user`; True if it raised PermissionError (or could not connect)."""
    snippet = f"import sys\ntry:\n{chr(10).join('    ' + l for l in code.splitlines())}\nexcept (PermissionError, OSError) as e:\n    print('REFUSED', type(e).__name__); sys.exit(0)\nexcept Exception as e:\n    print('REFUSED', type(e).__name__, str(e).splitlines()[0][:80]); sys.exit(0)\nprint('ALLOWED')"
    proc = site.as_user(user, [site.trainee_venv / "bin" / "python", "-c", snippet], check=False)
    return proc.stdout.startswith("REFUSED"), (proc.stdout + proc.stderr).strip()[:200]


def test_the_whole_path_on_the_hub(site):
    from coordkit.banks import load_bank
    from coordkit.config import for_course
    from coordkit.facts import load_facts

    s = site
    bank = load_bank(ROOT / "graders" / "items" / f"{ASSIGNMENT}.yml", load_facts(ROOT / "datasets" / "facts.yml"),
                     rubrics_dir=ROOT / "graders" / "rubrics")
    t = time.perf_counter()
    # release: coordkit writes the source from the bank and generates the release; nbgrader publishes it
    lecturer(s, 0, "-m", "coordkit", "--root", s.checkout, "--course-id", s.cid, "release", ASSIGNMENT)
    lecturer(s, 0, "-m", "nbgrader", "release_assignment", ASSIGNMENT)
    s.timings["release"] = time.perf_counter() - t

    # trainees: the Assignments tab's API, through the Hub's proxy, each with their own token
    t = time.perf_counter()
    for user, quality in zip(s.trainees, (2, 1, 0)):
        code, listing = trainee_api(s, user, "GET", f"/assignments?course_id={s.cid}")
        assert code == 200 and listing["success"], listing
        assert [a["assignment_id"] for a in listing["value"]] == [ASSIGNMENT]
        code, fetched = trainee_api(s, user, "POST", "/assignments/fetch",
                                    {"course_id": s.cid, "assignment_id": ASSIGNMENT})
        assert code == 200, fetched
        path = f"/api/contents/{s.cid}/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
        code, model = trainee_api(s, user, "GET", path)
        assert code == 200, model
        nb = nbformat.from_dict(model["content"])
        answer(nb, bank, quality)
        code, saved = trainee_api(s, user, "PUT", path, {"type": "notebook", "format": "json", "content": nb})
        assert code == 200, saved
        code, submitted = trainee_api(s, user, "POST", "/assignments/submit",
                                      {"course_id": s.cid, "assignment_id": ASSIGNMENT})
        assert code == 200 and submitted["success"], submitted
    s.timings["fetch_submit"] = time.perf_counter() - t

    # what a trainee's JupyterLab offers: the Assignments tab, not Formgrader, Create Assignment, Courses
    code, page = trainee_api(s, s.trainees[0], "GET", "/lab", raw=True)
    assert code == 200
    page = page.decode()
    for hidden in ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment", "@jupyter/nbgrader:course-list"):
        assert hidden in page                                   # listed in disabledExtensions
    assert '"disabledExtensions"' in page
    code, _ = trainee_api(s, s.trainees[0], "GET", "/formgrader", raw=True)
    assert code == 404                                          # the server extension is not loaded

    # collect (as the second lecturer): submissions become the lecturers' read-only record
    t = time.perf_counter()
    lecturer(s, 1, "-m", "nbgrader", "collect", ASSIGNMENT)
    for user in s.trainees:
        folder = s.course / "submitted" / user / ASSIGNMENT
        assert (folder / f"{ASSIGNMENT}.ipynb").is_file()
        assert oct(folder.stat().st_mode & 0o7777) == "0o2770"
        assert (folder / f"{ASSIGNMENT}.ipynb").stat().st_mode & 0o777 == 0o440
    s.timings["collect"] = time.perf_counter() - t

    # what a trainee can read and write (each must be refused)
    me, other = s.trainees[0], s.trainees[1]
    other_home = pwd.getpwnam(other).pw_dir
    mine = s.course / "submitted" / me / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    tries = {
        "read answer keys (graders/items)": f"open({str(s.checkout / 'graders' / 'items' / (ASSIGNMENT + '.yml'))!r}).read()",
        "read the site settings (pyproject.toml: the database password)": f"open({str(s.checkout / 'pyproject.toml')!r}).read()",
        "read the source notebook (hidden tests)": f"open({str(s.course / 'source' / ASSIGNMENT / (ASSIGNMENT + '.ipynb'))!r}).read()",
        "list the course folder": f"import os; os.listdir({str(s.course)!r})",
        "read the roster": f"open({str(s.course / 'roster.csv')!r}).read()",
        "read another trainee's collected submission": f"open({str(s.course / 'submitted' / other / ASSIGNMENT / (ASSIGNMENT + '.ipynb'))!r}).read()",
        "read another trainee's home (fetched notebook)": f"open({other_home + '/' + s.cid + '/' + ASSIGNMENT + '/' + ASSIGNMENT + '.ipynb'!r}).read()",
        "list the exchange's inbound folder": f"import os; os.listdir({str(s.exchange / s.cid / 'inbound')!r})",
        "write into the exchange's outbound (released) folder": f"open({str(s.exchange / s.cid / 'outbound' / ASSIGNMENT / 'x.ipynb')!r}, 'w').write('x')",
        "change own collected submission": f"open({str(mine)!r}, 'a').write('x')",
        "replace own collected submission": f"import os; os.rename({str(mine)!r}, {str(mine) + '.old'!r})",
        "connect to the gradebook database without its password": f"import psycopg; psycopg.connect('postgresql://coordkit@127.0.0.1:{s.pg_port}/gradebook_{s.cid}', connect_timeout=5)",
        "connect to the gradebook database as postgres": f"import psycopg; psycopg.connect('postgresql://postgres@127.0.0.1:{s.pg_port}/postgres', connect_timeout=5)",
        "import coordkit's course data from the trainee's package": "import coordkit, pathlib; p = pathlib.Path(coordkit.__file__).parent; assert not list(p.rglob('*.yml')) and not list(p.rglob('*.ipynb')); raise PermissionError('no course data in the package')",
    }
    results = {what: refused(s, me, code) for what, code in tries.items()}
    s.access = results
    print("\nTrainee access:\n" + "\n".join(f"  {'refused' if ok else 'ALLOWED'}: {what} ({out})"
                                          for what, (ok, out) in results.items()))
    assert all(ok for ok, _ in results.values()), {k: v for k, v in results.items() if not v[0]}
    # the trainee's kernel imports coordkit.checks from the wheel (no checkout, no pyproject.toml)
    proc = s.as_user(me, [s.trainee_venv / "bin" / "python", "-c",
                          "import coordkit.checks, coordkit; print(coordkit.__file__)"], cwd="/")
    assert str(s.trainee_venv) in proc.stdout, proc.stdout
    # another trainee's files through the Hub: refused
    code, _ = trainee_api(s, other, "GET", "/api/contents/", as_user=me)
    assert code == 403
    code, _ = hub_api(s, "GET", f"/services/formgrader-{s.cid}/formgrader", token=s.tokens[me], raw=True)
    assert code in (403, 404), code

    # grade with coordkit (sandboxed, parallel) into the PostgreSQL gradebook
    t = time.perf_counter()
    out = lecturer(s, 0, "-m", "coordkit", "--root", s.checkout, "--course-id", s.cid, "grade", ASSIGNMENT, "--jobs", "2")
    s.timings["grade"] = time.perf_counter() - t
    assert "3" in out.stdout, out.stdout

    # two lecturers marking at once: allocate, then both save their marks concurrently
    t = time.perf_counter()
    allocated = lecturer(s, 0, "-m", "coordkit", "--root", s.checkout, "--course-id", s.cid, "mark", "allocate",
                         ASSIGNMENT, "--markers", ",".join(s.lecturers))
    print("\n" + allocated.stdout)
    worker = (
        "import json, sys, time\n"
        "from coordkit.config import load_settings, for_course\n"
        "from coordkit.marking import queue, save_mark\n"
        "from coordkit.marking.written import rubric_cell\n"
        f"settings = for_course(load_settings({str(s.checkout)!r}), {s.cid!r})\n"
        "me = sys.argv[1]; took = []\n"
        "for entry in queue(settings, me):\n"
        "    cell = rubric_cell(settings, entry.assignment, entry.grade_id)\n"
        "    levels = {c.id: max(l.points for l in c.levels) for c in cell.criteria}\n"
        "    t = time.perf_counter(); save_mark(settings, entry.answer_id, me, levels, 'ok'); took.append(time.perf_counter() - t)\n"
        "print(json.dumps(took))\n")
    procs = []
    for n, lec in enumerate(s.lecturers):
        entry = pwd.getpwnam(lec)
        procs.append(subprocess.Popen(
            ["/bin/sh", "-c", 'umask 007 && exec "$@"', "sh", str(s.lect_venv / "bin" / "python"), "-c", worker, lec],
            user=entry.pw_uid, group=entry.pw_gid, extra_groups=os.getgrouplist(lec, entry.pw_gid),
            cwd=s.course, env={"HOME": entry.pw_dir, "PATH": f"{s.lect_venv}/bin:/usr/bin:/bin", "LANG": "C.UTF-8"},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    marks = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-3000:]
        marks.append(json.loads(out.strip().splitlines()[-1]))
    s.timings["marking"] = time.perf_counter() - t
    s.marking = {"marks": [len(m) for m in marks], "mean_s": [round(sum(m) / len(m), 3) if m else None for m in marks],
                 "max_s": [round(max(m), 3) if m else None for m in marks]}
    print(f"\nTwo lecturers marking at once: {s.marking}")
    assert sum(len(m) for m in marks) == 3 * len([i for i in bank.items if not i.auto]) and all(marks)

    # feedback: regenerated with the marks, released, fetched by every trainee through their server
    t = time.perf_counter()
    lecturer(s, 1, "-m", "nbgrader", "generate_feedback", ASSIGNMENT, "--force")
    lecturer(s, 1, "-m", "nbgrader", "release_feedback", ASSIGNMENT)
    for user in s.trainees:
        code, body = trainee_api(s, user, "POST", "/assignments/fetch_feedback",
                                 {"course_id": s.cid, "assignment_id": ASSIGNMENT})
        assert code == 200, body
        code, listing = trainee_api(s, user, "GET", f"/api/contents/{s.cid}/{ASSIGNMENT}/feedback")
        assert code == 200 and listing["content"], listing
        stamp = listing["content"][0]["path"]
        code, page = trainee_api(s, user, "GET", f"/api/contents/{urllib.parse.quote(stamp)}/{ASSIGNMENT}.html")
        assert code == 200 and "BEGIN HIDDEN TESTS" not in page["content"]
    s.timings["feedback"] = time.perf_counter() - t

    # the same submissions graded single-user with SQLite give the same scores
    t = time.perf_counter()
    hub_scores = _scores(for_course(s.settings, s.cid))
    single = _single_user_scores(s, bank)
    s.timings["sqlite_compare"] = time.perf_counter() - t
    auto = lambda f: f[f.kind == "auto"].set_index(["trainee_id", "grade_id"]).score.sort_index()
    assert list(auto(hub_scores)) == list(auto(single))
    totals = hub_scores.groupby("trainee_id").score.sum()
    assert totals[s.trainees[0]] > totals[s.trainees[1]] > totals[s.trainees[2]]
    assert not hub_scores.needs_manual_grade.any()            # every written answer marked


def _scores(settings):
    from coordkit.course import export_scores

    return export_scores(settings=settings, assignments=[ASSIGNMENT])


def _single_user_scores(s, bank):
    """The collected submissions, graded by coordkit in a throwaway single-user course with SQLite."""
    import dataclasses

    from coordkit.config import load_settings
    from coordkit.course import course_settings, release_assignments
    from coordkit.grading import grade_cohort

    folder = s.base / "single"
    folder.mkdir()
    local = course_settings(folder, settings=load_settings(ROOT))
    local = dataclasses.replace(local, course_id="coordkit")
    local.course_root.mkdir(parents=True)
    shutil.copy(ROOT / "assignments" / "nbgrader_config.py", local.course_root / "nbgrader_config.py")
    release_assignments([bank], settings=local, force=True)
    shutil.copytree(s.course / "submitted", local.course_root / "submitted")
    for path in (local.course_root / "submitted").rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    grade_cohort([ASSIGNMENT], settings=local, jobs=2)
    return _scores(local)
