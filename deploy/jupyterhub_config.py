# JupyterHub for coordkit on one server: local system accounts (PAM), one local process per user
# (LocalProcessSpawner), Formgrader per cohort course as a Hub service for lecturers only.
# Start it as root (it starts each user's server as that user):
#     jupyterhub -f deploy/jupyterhub_config.py
# Every site value comes from the environment (deploy/coordkit-hub.env is an example), so the same file
# runs the training server and the test (tests/hub/test_hub.py). Kubernetes: deploy/README.md.
import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821

HERE = Path(__file__).resolve().parent
CHECKOUT = Path(os.environ.get("COORDKIT_ROOT", HERE.parent)).resolve()
STATE = Path(os.environ.get("COORDKIT_HUB_STATE", "/var/lib/coordkit-hub"))
IP = os.environ.get("COORDKIT_HUB_IP", "127.0.0.1")     # behind a TLS reverse proxy on the same host
PORT = int(os.environ.get("COORDKIT_HUB_PORT", "8000"))
# The lecturers' environment (the checkout's .venv) and the trainees' (coordkit's wheel, no course data).
LECTURER_PYTHON = os.environ.get("COORDKIT_LECTURER_PYTHON", sys.executable)
TRAINEE_PYTHON = os.environ.get("COORDKIT_TRAINEE_PYTHON", "/opt/coordkit/trainee/bin/python")
TRAINEE_JUPYTER_PATH = os.environ.get("COORDKIT_TRAINEE_JUPYTER_PATH", "")  # extra data dirs (labextensions)
GRADER = os.environ.get("COORDKIT_GRADER_USER", "coordkit-grader")         # runs Formgrader, in lecturers

sys.path.insert(0, str(CHECKOUT / "src"))
from coordkit.config import load_settings  # noqa: E402

SITE = load_settings(CHECKOUT)
LECTURERS, TRAINEES = SITE.lecturers_group, SITE.trainees_group
EXCHANGE = str(SITE.exchange_root or "/srv/nbgrader/exchange")
COURSES = SITE.courses_dir or CHECKOUT / "courses"

STATE.mkdir(parents=True, exist_ok=True, mode=0o700)

# --- the Hub and its proxy ---------------------------------------------------------------------------
c.JupyterHub.ip = IP
c.JupyterHub.port = PORT
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("COORDKIT_HUB_API_PORT", PORT + 1))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{PORT + 2}"
c.ConfigurableHTTPProxy.command = [str(HERE / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"   # the Hub's own state, not the gradebook
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True

# --- who may log in: local accounts in the trainees or lecturers group -----------------------------------
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.allowed_groups = {TRAINEES, LECTURERS}
c.PAMAuthenticator.admin_groups = {os.environ.get("COORDKIT_ADMIN_GROUP", "coordkit-admins")}
c.PAMAuthenticator.open_sessions = False

# --- one server per user, as that user ---------------------------------------------------------------------
c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 90
c.Spawner.mem_limit = os.environ.get("COORDKIT_MEM_LIMIT", "1G")   # enforced on Kubernetes; advisory here


def _cohort(groups):
    cohorts = sorted(g[len("cohort-"):] for g in groups if g.startswith("cohort-"))
    return cohorts[-1] if cohorts else None


def pre_spawn_hook(spawner):
    """Lecturers get the full environment (Formgrader, the marking app, coordkit) and umask 007 so
    that course files stay the lecturers' group's; trainees get the trainees' environment (coordkit's
    wheel: no course data), their cohort's course id and the Assignments tab only."""
    groups = {g.name for g in spawner.user.groups}
    env = dict(spawner.environment)
    if LECTURERS in groups:
        spawner.cmd = ["/bin/sh", "-c", 'umask 007 && exec "$@"', "sh", LECTURER_PYTHON, "-m", "jupyterhub.singleuser"]
        env.update(COORDKIT_ROOT=str(CHECKOUT))
    elif TRAINEES in groups:
        cohort = _cohort(groups)
        if cohort is None:
            raise RuntimeError(f"{spawner.user.name} is in no cohort-<id> group; run coordkit hub users <id>")
        spawner.cmd = [TRAINEE_PYTHON, "-m", "jupyterhub.singleuser"]
        env.update(COORDKIT_COURSE=cohort, COORDKIT_EXCHANGE=EXCHANGE,
                   JUPYTER_CONFIG_PATH=str(HERE / "trainee" / "jupyter"))
        if TRAINEE_JUPYTER_PATH:
            env["JUPYTER_PATH"] = TRAINEE_JUPYTER_PATH
    else:
        raise RuntimeError(f"{spawner.user.name} is neither a trainee nor a lecturer")
    spawner.environment = env


c.Spawner.pre_spawn_hook = pre_spawn_hook

# --- services: the administrators' API client and one Formgrader per cohort course ---------------------------
token_file = STATE / "coordkit_admin_token"
if not token_file.exists():
    import secrets

    token_file.write_text(secrets.token_hex(32))
    token_file.chmod(0o600)
services = [{"name": "coordkit-admin", "api_token": token_file.read_text().strip()}]
roles = [{"name": "coordkit-admin", "services": ["coordkit-admin"],
          "scopes": ["admin:users", "admin:groups", "admin:servers", "tokens", "list:users", "read:users",
                     "list:groups", "read:groups", "access:servers"]}]

FIRST_PORT = int(os.environ.get("COORDKIT_FORMGRADER_PORT", PORT + 10))
courses = sorted(p.parent.name for p in COURSES.glob("*/nbgrader_config.py")) if COURSES.is_dir() else []
courses = [cid for cid in courses if cid != "demo"]
for n, cid in enumerate(courses):
    name = f"formgrader-{cid}"
    extensions = [f"--ServerApp.jpserver_extensions={name}={on}" for name, on in (
        ("nbgrader.server_extensions.formgrader", True), ("coordkit.marking.app", True),
        ("nbgrader.server_extensions.assignment_list", False), ("nbgrader.server_extensions.course_list", False))]
    services.append({
        "name": name, "url": f"http://127.0.0.1:{FIRST_PORT + n}", "user": GRADER, "cwd": str(COURSES / cid),
        "oauth_no_confirm": True,
        "command": ["/bin/sh", "-c", 'umask 007 && exec "$@"', "sh", LECTURER_PYTHON, "-m", "jupyterhub.singleuser",
                    f"--ServerApp.root_dir={COURSES / cid}", *extensions,
                    "--ServerApp.default_url=/formgrader"],
        "environment": {"COORDKIT_ROOT": str(CHECKOUT), "COORDKIT_COURSE": cid,
                        "PATH": f"{Path(LECTURER_PYTHON).parent}:/usr/bin:/bin", "HOME": str(COURSES / cid)},
    })
    roles.append({"name": f"lecturers-{name}", "groups": [LECTURERS], "scopes": [f"access:services!service={name}"]})

c.JupyterHub.services = services
c.JupyterHub.load_groups = {TRAINEES: {"users": []}, LECTURERS: {"users": []}}
c.JupyterHub.load_roles = roles
