"""No trainee-written active content runs in the lecturer's browser.

A trainee submits a notebook whose answer cell holds code that displays a script, saved outputs
with a script and JavaScript, a written answer with a script and an `onerror` handler, a raw HTML
cell, an attachment and widget state, plus an HTML file in the submission folder. `coordkit grade`
grades it; the real Formgrader (nbgrader's server extension in `jupyter server` on 127.0.0.1) then
shows the submission in headless Chromium (Playwright, the system's Chromium). Every script the
trainee wrote would add to `window.ran` or call `pwned()`; the page must show the trainee's answer
and nothing may have run. The same notebook rendered as stock nbconvert HTML does run them in the
same browser (the check can fail), and the folder's HTML file is not served by Formgrader.

Chromium comes from the system (`make chromium`); without it the test is skipped with the reason.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ID = "cs01_job_loss"
TRAINEE = "h_script"
MARK = "課題は4つある"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-gpu"]
# every script adds to window.ran (or calls pwned(), a function the test exposes to the page)
PWN = "window.ran = (window.ran || []).concat"


def _cell(nb: dict, gid: str) -> dict:
    return next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == gid)


def _hostile(released: dict, bank) -> dict:
    nb = copy.deepcopy(released)
    first = next(i for i in bank.items if i.auto)
    answer = _cell(nb, f"{first.grade_id}_answer")
    answer["source"] = ("from IPython.display import HTML, Javascript, display\n"
                        f"display(HTML('<script>{PWN}([\"displayed\"])</script>'))\n"
                        f"{first.grade_id} = {json.dumps(first.key)}\n")
    answer["outputs"] = [
        {"output_type": "display_data", "metadata": {}, "data": {
            "text/html": f"<script>{PWN}(['saved html'])</script><img src=x onerror=\"{PWN}(['img'])\">",
            "application/javascript": f"{PWN}(['saved js'])", "text/plain": "<IPython.core.display.HTML>"}},
        {"output_type": "execute_result", "execution_count": 1, "metadata": {}, "data": {
            "image/svg+xml": f"<svg onload=\"{PWN}(['svg'])\"></svg>", "text/plain": "svg"}}]
    written = _cell(nb, next(i for i in bank.items if not i.auto).grade_id)
    written["source"] = (f"{MARK}。<script>{PWN}(['markdown'])</script>"
                         f"<img src=x onerror=\"{PWN}(['markdown img'])\"> <a href=\"javascript:pwned('link')\">x</a>")
    written["attachments"] = {"a.svg": {"image/svg+xml": "PHN2ZyBvbmxvYWQ9InB3bmVkKCdhdHRhY2htZW50JykiPjwvc3ZnPg=="}}
    nb["cells"].append({"cell_type": "raw", "metadata": {"format": "text/html"}, "source":
                        f"<script>{PWN}(['raw'])</script>"})
    nb["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {"version_major": 2, "version_minor": 0,
                                 "state": {"m": {"model_name": "HTMLModel", "model_module": "@jupyter-widgets/controls",
                                                 "model_module_version": "2.0.0",
                                                 "state": {"value": f"<img src=x onerror=\"{PWN}(['widget'])\">"}}}}}
    return nb


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium is not installed (make chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def course(tmp_path_factory, settings, facts):
    from coordkit.content.banks import load_banks
    from coordkit.cohort.simulate.scratch import scratch_course
    from coordkit.grading import grade_cohort

    banks = load_banks(settings.items_dir, facts, [ID], rubrics_dir=settings.rubrics_dir)
    work = tmp_path_factory.mktemp("formgrader")
    course = scratch_course(work / "course", settings=settings, banks=banks, trainees=1, seed=3)
    released = json.loads((course.course_root / "release" / ID / f"{ID}.ipynb").read_text(encoding="utf-8"))
    hostile = _hostile(released, banks[0])
    folder = course.course_root / "submitted" / TRAINEE / ID
    folder.mkdir(parents=True)
    (folder / f"{ID}.ipynb").write_text(json.dumps(hostile, ensure_ascii=False), encoding="utf-8")
    (folder / "evil.html").write_text(f"<script>{PWN}(['file'])</script>", encoding="utf-8")
    result = grade_cohort([ID], settings=course, jobs=1, show_progress=False)
    assert result.graded[ID] == 2, result.summary_lines()
    return {"settings": course, "hostile": hostile, "work": work, "key": next(i for i in banks[0].items if i.auto).key}


@pytest.fixture(scope="module")
def formgrader(course, tool_path_env):
    root = course["settings"].course_root
    config = course["work"] / "jupyter-config"
    config.mkdir()
    (config / "jupyter_server_config.json").write_text(json.dumps({"ServerApp": {"jpserver_extensions": {
        "nbgrader.server_extensions.formgrader": True}}}), encoding="utf-8")
    port, token = _free_port(), "coordkit-test-token"
    env = {**tool_path_env, "JUPYTER_CONFIG_DIR": str(config), "JUPYTER_RUNTIME_DIR": str(course["work"] / "runtime"),
           "COORDKIT_DB_URL": course["settings"].db_url, "HOME": str(course["work"])}
    log = open(course["work"] / "server.log", "w", encoding="utf-8")
    server = subprocess.Popen([sys.executable, "-m", "jupyter", "server", "--no-browser", "--ip=127.0.0.1",
                               f"--port={port}", f"--IdentityProvider.token={token}",
                               f"--ServerApp.root_dir={root}", *(["--allow-root"] if os.geteuid() == 0 else [])],
                              cwd=root, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("jupyter server did not start: "
                                + (course["work"] / "server.log").read_text(encoding="utf-8")[-2000:])
                time.sleep(0.3)
        yield {"base": base, "token": token}
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _open(browser, url: str) -> tuple[object, list[str]]:
    """The page at `url` and everything a script of the trainee did there (pwned() calls, dialogs,
    window.pwned), after the page and its scripts have settled."""
    context = browser.new_context()
    page = context.new_page()
    calls: list[str] = []
    page.expose_function("pwned", lambda *args: calls.append(f"pwned({args})"))
    page.on("dialog", lambda d: (calls.append(f"dialog {d.message}"), d.dismiss()))
    page.goto(url, wait_until="load")
    page.wait_for_timeout(1500)
    done = page.evaluate("window.ran || []")
    return page, calls + [str(d) for d in done]


def _submission_id(settings) -> str:
    from nbgrader.api import Gradebook

    with Gradebook(settings.db_url, "coordkit") as gb:
        return gb.find_submission_notebook(ID, ID, TRAINEE).id


def test_no_trainee_script_runs_in_formgrader(browser, course, formgrader):
    sid = _submission_id(course["settings"])
    url = f"{formgrader['base']}/formgrader/submissions/{sid}/?token={formgrader['token']}"
    page, ran = _open(browser, url)
    text = page.inner_text("body")
    assert MARK in text, text[:2000]                      # the trainee's written answer is shown
    assert str(course["key"]) in page.content()           # and the answer cell
    assert ran == []
    # a file of the submission folder is not served from the autograded folder
    page, ran = _open(browser, f"{formgrader['base']}/formgrader/submissions/{sid}/evil.html?token={formgrader['token']}")
    assert ran == [] and "pwned" not in page.content()


def test_the_same_notebook_as_stock_html_runs_the_scripts(browser, course, tmp_path):
    """The check can fail: stock nbconvert HTML of the submitted notebook runs the trainee's scripts."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.reads(json.dumps(course["hostile"]), as_version=4)
    html, _ = HTMLExporter().from_notebook_node(nb)
    path = tmp_path / "stock.html"
    path.write_text(html, encoding="utf-8")
    _, ran = _open(browser, path.as_uri())
    assert ran, "no trainee script ran in stock HTML: the detection does not work"
