"""Issue #14.3: a module page opened in a trainee's JupyterLab reads like the web page and its
self-check works there. `coordkit book notebooks` exports the pages; one of them is run with a real
kernel in a folder with no coordkit checkout above it (no pyproject.toml, no datasets/), and its
self-check widget is answered the way a trainee would: choose an option, press the button."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from coordkit.content.facts import due_date

pytestmark = pytest.mark.slow
WIDGET = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def exported(root, tmp_path_factory):
    out = tmp_path_factory.mktemp("exported")
    proc = subprocess.run([sys.executable, "-m", "coordkit", "--root", str(root), "book", "notebooks",
                           "--out", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return out


def _no_checkout_above(folder: Path) -> None:
    for parent in (folder, *folder.parents):
        assert not (parent / "pyproject.toml").is_file(), f"{parent} has a pyproject.toml"


def test_every_module_page_of_both_editions_is_exported_with_its_roles_resolved(root, exported):
    for lang, folder in (("en", root / "book" / "modules"), ("ja", root / "book" / "ja" / "modules")):
        pages = {p.stem for p in folder.glob("*.md")}
        assert pages and pages == {p.stem for p in (exported / lang).glob("*.ipynb")}
        for path in (exported / lang).glob("*.ipynb"):
            nb = nbformat.read(path, as_version=4)
            text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
            leftover = re.findall(r"\{(?:fact|fact-text|term|ref|doc|deadline)\}`|```\{|^\([a-z_]+\)=$", text, re.M)
            assert not leftover, f"{path}: {leftover[:3]}"
            assert not any("page_facts()" in c.source for c in nb.cells if c.cell_type == "code"), path


def test_the_japanese_residence_card_page_reads_its_facts_as_text(exported, facts):
    nb = nbformat.read(exported / "ja" / "residence_card.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    moving = facts["residence.moving_days"]
    assert f"[{moving.display('ja')}]({moving.source})" in text       # {fact}: the value, linked
    assert facts["residence.special_period_months"].statement("ja") in text   # sources block


def test_a_page_runs_outside_the_checkout_and_its_self_check_gives_the_verdicts(exported, facts, tmp_path):
    from nbclient import NotebookClient

    workdir = tmp_path / "trainee_home"
    workdir.mkdir()
    _no_checkout_above(workdir)
    nb = nbformat.read(exported / "ja" / "residence_card.ipynb", as_version=4)
    # what a trainee then does: choose an answer in question 1 of the widget and press 答え合わせ
    left = dt.date(2025, 3, 31)
    due = due_date(facts["residence.affiliation_notice_days"], left)
    expected = f"{due.month}月{due.day}日"
    nb.cells.append(nbformat.v4.new_code_cell(f"""
import json, ipywidgets as w
view = w.Widget.widgets[MODEL_ID]
question = view.children[1]
control, button, feedback = question.children[1], question.children[2], question.children[3]
verdicts = {{}}
for label, index in control.options:
    control.value = index
    button.click()
    verdicts[label] = feedback.value
print(json.dumps(verdicts, ensure_ascii=False))
"""))
    client = NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(workdir)}})
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells[:-1]):
            client.execute_cell(cell, index)
        views = [o["data"][WIDGET]["model_id"] for c in nb.cells[:-1] if c.cell_type == "code"
                 for o in c.get("outputs", []) if o.get("output_type") == "execute_result" and WIDGET in o.get("data", {})]
        assert len(views) == 1, "the self-check did not build its widget"
        nb.cells[-1].source = f"MODEL_ID = {views[0]!r}\n" + nb.cells[-1].source
        client.execute_cell(nb.cells[-1], len(nb.cells) - 1)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors
    stdout = [o["text"] for o in nb.cells[-1].outputs if o.get("name") == "stdout"]
    verdicts = json.loads(stdout[-1])
    right = [label for label, verdict in verdicts.items() if "正解" in verdict]
    assert right == [label for label in verdicts if label.endswith(expected)], verdicts
    assert all("もう一度" in verdict for label, verdict in verdicts.items() if label not in right)


def test_an_unknown_page_is_one_line_naming_it_and_the_fix(root, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "coordkit", "--root", str(root), "book", "notebooks",
                           "--out", str(tmp_path), "--page", "residence_cards"], capture_output=True, text=True)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "residence_cards" in lines[0] and "file stem" in lines[0], proc.stderr
    assert not list(tmp_path.rglob("*.ipynb"))
