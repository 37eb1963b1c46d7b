"""`coordkit evaluate`: every evaluator notebook runs with parameters, on the bundled sample and on a
cohort with most data missing, and the result is ONE HTML report with its figures as PNG."""

import re
from html import unescape
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow

SECTIONS = ("概要 / Overview", "反応 / Reaction", "学習 / Learning", "採点の一致 / Rater agreement",
            "行動と成果 / Behaviour and results", "属性別 / Subgroups", "改訂の優先順位 / What to revise",
            "養成能力の計画 / Capacity plan")


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory, root, tool_path_env):
    out = tmp_path_factory.mktemp("report")
    exe = str(Path(sys.executable).parent / "coordkit")
    proc = subprocess.run([exe, "evaluate", "--cohort", "sample", "--data", str(root / "datasets" / "sample"),
                           "--out", str(out)], cwd=root, env=tool_path_env, capture_output=True, text=True,
                          timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out, proc.stdout


def test_one_html_report_with_every_section_and_no_code(sample_report):
    out, stdout = sample_report
    assert f"report: {out / 'cohort_report.html'}" in stdout
    assert [p.name for p in out.glob("*.html")] == ["cohort_report.html"]
    html = (out / "cohort_report.html").read_text(encoding="utf-8")
    positions = [html.find(title) for title in SECTIONS]
    assert all(p > 0 for p in positions), [t for t, p in zip(SECTIONS, positions) if p < 0]
    assert positions == sorted(positions), "sections are out of order"
    assert "load_cohort(" not in html and "import pandas" not in html        # code hidden
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64,', html)) >= 8
    assert "Traceback" not in html


def test_every_section_ends_with_conclusions(sample_report):
    html = (sample_report[0] / "cohort_report.html").read_text(encoding="utf-8")
    assert html.count("結論 / Conclusions") >= len(SECTIONS) - 1


def test_the_figures_are_written_as_png(sample_report):
    figures = {p.stem for p in (sample_report[0] / "figures").glob("*.png")}
    assert {"funnel", "reaction_satisfaction", "reaction_themes", "pre_post", "item_map", "rater_severity",
            "followup_competencies", "results_by_period", "revision_ranking", "capacity_plan"} <= figures


def test_japanese_labels_render_without_missing_glyphs(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from coordkit.cohort.plotting import save_figure, use_japanese_font

    family = use_japanese_font()
    assert "IPAex" in family
    fig, ax = plt.subplots()
    ax.set_title("科目ごとの満足度：在留資格・やさしい日本語")
    with warnings.catch_warnings():
        warnings.simplefilter("error")                      # "Glyph ... missing from font(s)" is a warning
        save_figure(fig, tmp_path, "check")
    plt.close(fig)


def test_a_cohort_with_only_case_studies_and_few_tables_still_reports(tmp_path, root, settings):
    from coordkit.cohort.report import run_evaluation

    data = tmp_path / "demo"
    data.mkdir()
    for name in ("trainees", "pretest", "reaction"):
        shutil.copy(root / "datasets" / "sample" / f"{name}.csv", data / f"{name}.csv")
    scores = pd.read_csv(root / "datasets" / "sample" / "scores.csv")
    scores[scores["assignment"].str.startswith("cs")].to_csv(data / "scores.csv", index=False)
    result = run_evaluation(settings=settings, cohort="demo", data_dir=data, out_dir=tmp_path / "out")
    html = result.report.read_text(encoding="utf-8")
    text = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", html)))
    for expected in ("No scores for tp1_check", "no scores for 'completion_test'", "No rubric marks",
                     "No follow-up answers yet", "No consultation records", "No lecturer roster",
                     "No enrolment table"):
        assert expected in text, expected
    assert all(title in text for title in SECTIONS)


# -- rater agreement from the gradebook's marks (issue 12, point 6) ---------------------------------

@pytest.fixture(scope="module")
def marked_course(tmp_path_factory, settings, facts, tool_path_env):
    """A real graded course whose written answers three simulated lecturers marked through the marking
    library (a share of them blind double-marked), as in the demo."""
    from coordkit.banks import load_banks
    from coordkit.course import scratch_course
    from coordkit.grading import grade_cohort
    from coordkit.marking.simulate import simulate_marking

    banks = load_banks(settings.items_dir, facts, ["cs01_job_loss"], rubrics_dir=settings.rubrics_dir)
    course = scratch_course(tmp_path_factory.mktemp("rater"), settings=settings, banks=banks, trainees=12, seed=5)
    assert grade_cohort(["cs01_job_loss"], settings=course, jobs=1).worked == 12
    run = simulate_marking(course, ["cs01_job_loss"], theta={}, seed=5, double=0.6)
    assert run.double > 0
    return course


def _text(cell_outputs) -> str:
    out = []
    for o in cell_outputs:
        out.append(o.get("text", ""))
        for key in ("text/markdown", "text/plain", "text/html"):
            value = o.get("data", {}).get(key, "")
            out.append("".join(value) if isinstance(value, list) else value)
    return "\n".join(out)


def test_rater_agreement_reads_the_double_marks_from_the_gradebook(marked_course, root, tmp_path):
    import nbformat
    import papermill as pm

    from coordkit.cohort import rater_pairs
    from coordkit.marking import marks_frame

    # the cohort folder has no rubric_scores.csv: every mark shown must come from the gradebook
    data = tmp_path / "cohort"
    data.mkdir()
    for name in ("trainees", "scores"):
        shutil.copy(root / "datasets" / "sample" / f"{name}.csv", data / f"{name}.csv")
    out = tmp_path / "rater.ipynb"
    pm.execute_notebook(str(root / "graders" / "evaluation" / "rater_agreement.ipynb"), str(out),
                        cwd=str(root / "graders" / "evaluation"), kernel_name="python3", progress_bar=False,
                        parameters={"data_dir": str(data), "cohort": "rater", "figures_dir": str(tmp_path / "fig"),
                                    "rubrics_dir": str(root / "graders" / "rubrics"), "project_root": str(root),
                                    "gradebook_url": marked_course.db_url,
                                    "course_root": str(marked_course.course_root), "min_pairs": 3})
    nb = nbformat.read(out, as_version=4)
    text = "\n".join(_text(c.get("outputs", [])) for c in nb.cells if c.cell_type == "code")
    frame = marks_frame(marked_course)
    pairs = rater_pairs(frame, level="answer")
    assert "Marks read from the gradebook's marking tables" in text
    assert f"{len(frame)} criterion marks by {frame['rater_id'].nunique()} raters" in text
    assert f"{len(pairs)} of {frame[['trainee_id', 'grade_id']].drop_duplicates().shape[0]} written answers" in text
    assert "No rubric marks" not in text
    # the kappa table has its confidence interval, and the figures state their findings in both languages
    assert "95% CI low" in text and "kappa_w" in text
    alts = {p.name: p.read_text(encoding="utf-8") for p in (tmp_path / "fig").glob("*.alt.txt")}
    assert {"rater_kappa.alt.txt", "rater_icc.alt.txt", "rater_severity.alt.txt"} <= set(alts)
    assert re.search(r"κ = -?\d\.\d\d（95%CI -?\d\.\d\d〜-?\d\.\d\d）", alts["rater_kappa.alt.txt"])
    assert re.search(r"lowest is .* at -?\d\.\d\d \(95% CI", alts["rater_kappa.alt.txt"])
    for line in alts.values():
        assert " / " in line and re.search(r"\d", line)


# -- the report's accessibility (issue 16, point 5) ---------------------------------------------------

AXE = Path(__file__).resolve().parents[2] / ".venv" / "node" / "node_modules" / "axe-core" / "axe.min.js"


def test_report_figures_have_alt_text_stating_a_number_and_axe_finds_no_a_or_aa_violation(sample_report):
    from bs4 import BeautifulSoup
    from playwright.sync_api import sync_playwright

    out, _ = sample_report
    report = out / "cohort_report.html"
    soup = BeautifulSoup(report.read_text(encoding="utf-8"), "html.parser")
    images = soup.find_all("img")
    assert len(images) >= 11
    for img in images:
        alt = img.get("alt", "")
        assert alt and "No description" not in alt, img.get("src", "")[:60]
        assert re.search(r"\d", alt), alt
        assert re.search(r"[\u3041-\u30ff\u3400-\u9fff]", alt) and re.search(r"[A-Za-z]{3}", alt), alt  # JA and EN
    assert soup.html.get("lang") == "ja"
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing ({AXE}); run `make axe`")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                          "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page()
        page.goto(report.as_uri(), wait_until="load")
        page.add_script_tag(path=str(AXE))
        violations = page.evaluate("""async () => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, n: v.nodes.length,
                                           nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }""")
        browser.close()
    assert violations == [], violations
