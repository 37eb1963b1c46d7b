"""`coordkit demo` end to end on a small cohort, in a temporary copy of the repository, twice."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def repo_copy(root: Path, target: Path) -> Path:
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=root,
                           capture_output=True, text=True, check=True).stdout.split()
    for rel in files:
        src = root / rel
        if src.is_file():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target / rel)
    cache = root / "_build" / ".jupyter_cache"      # a warm execution cache, as a lecturer would have
    if cache.is_dir():
        shutil.copytree(cache, target / "_build" / ".jupyter_cache")
    return target


@pytest.fixture(scope="module")
def demo(tmp_path_factory, root, tool_path_env):
    copy = repo_copy(root, tmp_path_factory.mktemp("clone"))
    exe = str(Path(sys.executable).parent / "coordkit")
    first = subprocess.run([exe, "demo", "--trainees", "6", "--seed", "11"], cwd=copy, env=tool_path_env,
                           capture_output=True, text=True, timeout=1800)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    second = subprocess.run([exe, "demo", "--trainees", "6", "--seed", "11"], cwd=copy, env=tool_path_env,
                            capture_output=True, text=True, timeout=1800)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    return copy, first, second


def banks(copy):
    """The assignments of a cohort's training cycle (renewal training is not part of it)."""
    from coordkit.content.banks import load_banks
    from coordkit.content.facts import load_facts

    return sorted(b.id for b in load_banks(copy / "graders" / "items", load_facts(copy / "datasets" / "facts.yml"))
                  if b.cycle == "training")


def simulated(copy):
    """(trainee, assignment) pairs submitted: tests and reports only by those who reached them."""
    return {(p.parent.parent.name, p.parent.name)
            for p in (copy / "courses" / "demo" / "submitted").glob("*/*/*.ipynb")}


def test_every_stage_leaves_its_output(demo):
    copy, first, _ = demo
    assert (copy / "_build" / "html" / "index.html").is_file()
    for assignment in banks(copy):
        assert (copy / "courses" / "demo" / "release" / assignment / f"{assignment}.ipynb").is_file()
    pairs = simulated(copy)
    assert {t for t, _ in pairs} == {f"tr{i:03d}" for i in range(1, 7)}
    for trainee, assignment in pairs:
        assert (copy / "courses" / "demo" / "feedback" / trainee / assignment / f"{assignment}.html").is_file()
    report = copy / "reports" / "sample" / "cohort_report.html"
    assert report.is_file()
    assert re.search(r'<img[^>]+src="data:image/png;base64,', report.read_text(encoding="utf-8"))
    assert list((copy / "reports" / "sample" / "figures").glob("*.png"))


def test_summary_says_where_things_are_and_the_headline(demo):
    _, first, _ = demo
    out = first.stdout
    for label in ("Book (lecturers, trainees):", "Releases (trainees):", "Feedback (trainees):",
                  "Evaluation report:"):
        assert label in out
    assert re.search(r"Cohort sample: 6 trainees, \d+ submissions, mean autograded score [\d.]+%", out)
    for n in range(1, 10):
        assert f"[{n}/9]" in out
    assert "0 written answers awaiting manual grading" in out, "every written answer is marked by the end"


def test_marks_feedback_and_certification_follow_from_the_marking(demo, tool_path_env):
    copy, first, second = demo
    assert re.search(r"\d+ marks saved now by lecturer_a, lecturer_b, lecturer_c", first.stdout)
    assert "0 marks saved now" in second.stdout, "a second run marks nothing again"
    rubric = (copy / "datasets" / "cohorts" / "sample" / "rubric_scores.csv").read_text(encoding="utf-8")
    assert "lecturer_a" in rubric and "lecturer_c" in rubric      # the real marks, not simulated raters
    # the report's rater agreement reads those marks from the demo course's gradebook, not the CSV
    rater = (copy / "reports" / "sample" / "notebooks" / "rater_agreement.ipynb").read_text(encoding="utf-8")
    assert "Marks read from the gradebook" in rater and "courses/demo" in rater
    feedback = (copy / "courses" / "demo" / "feedback").rglob("cs01_job_loss.html")
    texts = [html.read_text(encoding="utf-8") for html in feedback]
    assert texts and all("0 / 2 点" in t or "1 / 2 点" in t or "2 / 2 点" in t for t in texts)
    found = re.search(r"Certified from the marks: (\d+) trainee", first.stdout)
    assert found
    code = re.search(r"coordkit verify (\S+) --register-url (\S+)", first.stdout)
    if int(found.group(1)):
        pdfs = list((copy / "courses" / "demo" / "certificates").glob("*.pdf"))
        assert len(pdfs) == int(found.group(1))
        exe = str(Path(sys.executable).parent / "coordkit")
        verify = subprocess.run([exe, "verify", code.group(1), "--register-url", code.group(2)], cwd=copy,
                                env=tool_path_env, capture_output=True, text=True)
        assert verify.returncode == 0 and verify.stdout.startswith("valid"), verify.stdout + verify.stderr


def test_scores_cover_every_trainee_and_item(demo):
    import pandas as pd

    copy, _, _ = demo
    scores = pd.read_csv(copy / "datasets" / "cohorts" / "sample" / "scores.csv")
    assert set(zip(scores["trainee_id"], scores["assignment"])) == simulated(copy)
    assert set(scores["assignment"]) <= set(banks(copy))
    # everyone who took an assignment has a row for each of its items
    assert scores.groupby(["assignment", "trainee_id"]).size().groupby("assignment").nunique().eq(1).all()
    assert (scores["score"] <= scores["max_score"]).all()


def test_second_run_reuses_what_is_current(demo):
    _, _, second = demo
    assert re.search(r"released: -; unchanged, reused: ", second.stdout)
    assert re.search(r"0 written, \d+ unchanged", second.stdout)
    assert re.search(r"graded 0, reused [1-9]\d*", second.stdout)


def test_feedback_shows_no_hidden_tests(demo):
    copy, _, _ = demo
    for html in (copy / "courses" / "demo" / "feedback").rglob("*.html"):
        text = html.read_text(encoding="utf-8")
        assert "HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text, html
