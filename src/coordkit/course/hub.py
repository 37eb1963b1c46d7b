"""Running real cohorts on one JupyterHub server (deploy/): a course per cohort and the accounts of
its trainees and lecturers.

- A course per cohort: `<courses_dir>/<course id>/` with its own nbgrader_config.py (course id,
  folder, exchange; everything else from the checkout's assignments/nbgrader_config.py), its own
  gradebook (`db_url` with `{course}`: one PostgreSQL database per cohort) and modes that say who may
  read it: the lecturers' group, nothing for anyone else.
- Trainee ids are unique across the site: `<course id>-tr<NNN>` (e.g. c2026a-tr001); the same id is
  the system account, the Hub user, nbgrader's student id and Moodle's "ID number".
- `create_accounts`: system users (useradd, home 0700), Hub users and groups (through the Hub's
  REST API), and the trainees in the course's gradebook.

Owns: course folders and their modes, rosters, accounts. May import: coordkit's settings, errors,
database and course helpers, nbgrader's gradebook API; never the grading engine."""

from __future__ import annotations

import csv
import grp
import json
import os
import pwd
import stat
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from ..config import COURSE_ID, Settings, for_course
from ..errors import CoordkitError

COURSE_DIR_MODE = 0o2770      # lecturers' group: read and write (setgid: new files keep the group)
EXCHANGE_MODE = 0o1777        # nbgrader's exchange: everyone may write, only owners may delete (sticky)
TRAINEE_GROUP_PREFIX = "cohort-"


class HubError(CoordkitError):
    """A roster, an account or the Hub's API is wrong or unreachable."""


# --- the course of a cohort ---------------------------------------------------------------------------

COURSE_CONFIG = '''\
# The nbgrader course of cohort {course_id} (written by `coordkit course create {course_id}`).
# Everything but the course id, folder and exchange comes from the checkout's shared configuration;
# the gradebook URL from `db_url` in {checkout}/pyproject.toml.
import os

from coordkit.config import nbgrader_db_url

c = get_config()  # noqa: F821
os.environ["COORDKIT_COURSE_CONFIG"] = __file__       # the shared file then leaves the gradebook to us
try:
    load_subconfig({shared!r})  # noqa: F821
finally:
    os.environ.pop("COORDKIT_COURSE_CONFIG", None)

c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.db_url = nbgrader_db_url(c.CourseDirectory.root, {course_id!r}, checkout={checkout!r})
# several lecturers share the course: exchange folders and collected files belong to their group
c.CourseDirectory.groupshared = True
{exchange}'''


@dataclass
class CourseResult:
    course_id: str
    folder: Path
    db_url: str
    database_created: bool = False
    exchange: Path | None = None
    group: str | None = None


def _gid(name: str) -> int | None:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return None


def secure_tree(folder: Path, *, gid: int | None) -> None:
    """Give a course folder the lecturers' group and no access for others: folders 2770, files
    0660 (collected submissions keep their read-only 0440), recursively."""
    for path in [folder, *folder.rglob("*")]:
        if path.is_symlink():
            continue
        if gid is not None and os.geteuid() == 0:
            os.chown(path, -1, gid)
        if path.is_dir():
            os.chmod(path, COURSE_DIR_MODE)
        else:
            writable = stat.S_IMODE(path.stat().st_mode) & stat.S_IWUSR
            os.chmod(path, 0o660 if writable else 0o440)


def create_course(settings: Settings, course_id: str, *, group: str | None = None) -> CourseResult:
    """The course of cohort `course_id`: folder, nbgrader_config.py, gradebook (created and migrated by
    nbgrader's own Gradebook), exchange root; modes for the lecturers' group. Safe to run again."""
    from nbgrader.api import Gradebook

    from ..database import check_database, create_database

    course = for_course(settings, course_id) if COURSE_ID.match(course_id) else None
    if course is None or course_id == "coordkit" or course.course_root == settings.root / "assignments":
        raise HubError(f"course id {course_id!r}: use a lower-case letter then 1-19 lower-case letters or digits, "
                       "not the checkout's own course (assignments/), e.g. c2026a")
    folder = course.course_root
    group = group or settings.lecturers_group
    gid = _gid(group)
    folder.mkdir(parents=True, exist_ok=True)
    if settings.exchange_root is not None:
        settings.exchange_root.mkdir(parents=True, exist_ok=True)
        os.chmod(settings.exchange_root, EXCHANGE_MODE)
        exchange = f"c.Exchange.root = {str(settings.exchange_root)!r}\n"
        mine = settings.exchange_root / course_id        # the course's exchange: the lecturers' group
        mine.mkdir(exist_ok=True)
        if gid is not None and os.geteuid() == 0:
            os.chown(mine, -1, gid)
        os.chmod(mine, 0o2775)
    else:
        exchange = ""
    shared = settings.root / "assignments" / "nbgrader_config.py"
    (folder / "nbgrader_config.py").write_text(COURSE_CONFIG.format(
        course_id=course_id, checkout=str(settings.root), shared=str(shared), exchange=exchange), encoding="utf-8")
    created = create_database(course.db_url)
    check_database(course.db_url, where=f"{settings.root / 'pyproject.toml'} [tool.coordkit] (course {course_id})")
    with Gradebook(course.db_url, course_id):
        pass                                # nbgrader creates (or upgrades) its tables
    secure_tree(folder, gid=gid)
    return CourseResult(course_id, folder, course.db_url, created, settings.exchange_root,
                        group if gid is not None else None)


# --- rosters and accounts -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Person:
    id: str
    role: str                      # trainee | lecturer
    first_name: str = ""
    last_name: str = ""
    email: str = ""


def read_roster(path: Path, *, course_id: str) -> list[Person]:
    """A cohort's roster (UTF-8 CSV): columns role (trainee|lecturer), last_name, first_name, email and,
    optionally, id. Trainees without an id get `<course id>-tr<NNN>` in roster order; a trainee id must
    start with `<course id>-` (unique across the site); a lecturer needs an id (their account)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
    except FileNotFoundError:
        raise HubError(f"roster {path} not found; write a CSV with columns role,last_name,first_name,email[,id] "
                       "(see the administrator's guide)") from None
    people: list[Person] = []
    seen: set[str] = set()
    number = 0
    for line, row in enumerate(rows, start=2):
        role = (row.get("role") or "").strip().lower()
        if role not in ("trainee", "lecturer"):
            raise HubError(f"{path}, line {line}: role {row.get('role')!r}; write trainee or lecturer")
        pid = (row.get("id") or "").strip()
        if role == "trainee":
            number += 1
            pid = pid or f"{course_id}-tr{number:03d}"
            if not pid.startswith(f"{course_id}-"):
                raise HubError(f"{path}, line {line}: trainee id {pid!r} must start with {course_id + '-'!r} "
                               "(ids are unique across cohorts); leave the id empty to have one assigned")
        elif not pid:
            raise HubError(f"{path}, line {line}: a lecturer needs an id (their account name), e.g. lec-sato")
        if not _valid_name(pid):
            raise HubError(f"{path}, line {line}: id {pid!r} is not a valid account name "
                           "(lower-case letters, digits and -, starting with a letter, at most 32)")
        if pid in seen:
            raise HubError(f"{path}, line {line}: id {pid!r} appears twice")
        seen.add(pid)
        people.append(Person(pid, role, (row.get("first_name") or "").strip(), (row.get("last_name") or "").strip(),
                             (row.get("email") or "").strip()))
    return people


def _valid_name(name: str) -> bool:
    import re

    return bool(re.fullmatch(r"[a-z][a-z0-9-]{0,31}", name))


def trainee_group(course_id: str) -> str:
    return TRAINEE_GROUP_PREFIX + course_id


class HubAPI:
    """The few calls of JupyterHub's REST API that accounts need (token: a service's API token with the
    admin:users and admin:groups scopes, e.g. deploy/'s coordkit-admin service)."""

    def __init__(self, url: str, token: str):
        self.url = url.rstrip("/") + "/hub/api"
        self.token = token

    def call(self, method: str, path: str, body: dict | None = None, *, ok=(200, 201, 204)) -> dict | list | None:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Authorization": f"token {self.token}",
                                                  "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read()
                return json.loads(text) if text else None
        except urllib.error.HTTPError as exc:
            if exc.code in ok:
                return None
            detail = exc.read().decode(errors="replace")[:200]
            raise HubError(f"JupyterHub {method} {path}: HTTP {exc.code} {detail}; "
                           "check the API token's scopes (admin:users, admin:groups)") from None
        except urllib.error.URLError as exc:
            raise HubError(f"JupyterHub at {self.url} is not reachable ({exc.reason}); start it "
                           "(deploy/README.md) or pass --hub-url") from None

    def users(self) -> set[str]:
        return {u["name"] for u in self.call("GET", "/users?limit=10000") or []}

    def groups(self) -> set[str]:
        return {g["name"] for g in self.call("GET", "/groups?limit=10000") or []}


@dataclass
class AccountsResult:
    course_id: str
    system_created: list[str] = field(default_factory=list)
    hub_created: list[str] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=dict)
    gradebook_students: int = 0


def _system_user(person: Person, *, groups: list[str]) -> bool:  # noqa: C901
    """A local account with a private home (0700). Returns True if it was created."""
    for name in groups:
        if _gid(name) is None:
            subprocess.run(["groupadd", name], check=True, capture_output=True)
    try:
        entry = pwd.getpwnam(person.id)
        created = False
    except KeyError:
        comment = f"{person.last_name} {person.first_name}".strip() or person.id
        primary = ["--gid", groups[0]] if person.role == "lecturer" else []   # files they make: the group's
        proc = subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", "--comment", comment, *primary,
                               "--groups", ",".join(groups), person.id], capture_output=True, text=True)
        if proc.returncode != 0:
            raise HubError(f"useradd {person.id} failed: {proc.stderr.strip()}; run as root")
        entry = pwd.getpwnam(person.id)
        created = True
    if not created:
        subprocess.run(["usermod", "--append", "--groups", ",".join(groups), person.id], check=True,
                       capture_output=True)
    os.chmod(entry.pw_dir, 0o700)
    return created


def create_accounts(settings: Settings, course_id: str, people: list[Person], *, hub: HubAPI | None,
                    system: bool = True) -> AccountsResult:
    """Accounts for a cohort: system users (trainees in the trainees group, lecturers in the lecturers
    group), the same names as Hub users in the Hub groups trainees / lecturers / cohort-<id>, and the
    trainees as students of the course's gradebook (names and e-mail for Formgrader and exports)."""
    from nbgrader.api import Gradebook

    course = for_course(settings, course_id)
    result = AccountsResult(course_id)
    trainees = [p.id for p in people if p.role == "trainee"]
    lecturers = [p.id for p in people if p.role == "lecturer"]
    cohort = trainee_group(course_id)
    if system:
        if os.geteuid() != 0:
            raise HubError("creating system users needs root; run `sudo coordkit hub users ...` "
                           "or pass --no-system to create only the Hub users")
        for person in people:
            groups = [settings.trainees_group] if person.role == "trainee" else [settings.lecturers_group]
            if _system_user(person, groups=groups):
                result.system_created.append(person.id)
    if hub is not None:
        existing = hub.users()
        new = [p.id for p in people if p.id not in existing]
        if new:
            hub.call("POST", "/users", {"usernames": new})
            result.hub_created = new
        known = hub.groups()
        for name, members in ((settings.trainees_group, trainees), (settings.lecturers_group, lecturers),
                              (cohort, trainees)):
            if name not in known:
                hub.call("POST", f"/groups/{name}")
            if members:
                hub.call("POST", f"/groups/{name}/users", {"users": members})
            result.groups[name] = members
    with Gradebook(course.db_url, course_id) as gb:
        for person in people:
            if person.role == "trainee":
                gb.update_or_create_student(person.id, first_name=person.first_name or None,
                                            last_name=person.last_name or None, email=person.email or None)
                result.gradebook_students += 1
    return result


# --- the trainees' Python environment -------------------------------------------------------------------

def build_wheel(checkout: Path, out: Path) -> Path:
    """coordkit as a wheel: the package's code only (no item banks, sources, gradebooks, rosters), for
    the trainees' kernels (`coordkit.checks` is what released notebooks import)."""
    import sys

    out.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(checkout)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise HubError(f"building the coordkit wheel failed: {proc.stderr.strip().splitlines()[-1:]}")
    wheels = sorted(out.glob("coordkit-*.whl"), key=lambda p: p.stat().st_mtime)
    return wheels[-1]
