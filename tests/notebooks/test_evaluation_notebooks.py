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

    from coordkit.plotting import save_figure, use_japanese_font

    family = use_japanese_font()
    assert "IPAex" in family
    fig, ax = plt.subplots()
    ax.set_title("科目ごとの満足度：在留資格・やさしい日本語")
    with warnings.catch_warnings():
        warnings.simplefilter("error")                      # "Glyph ... missing from font(s)" is a warning
        save_figure(fig, tmp_path, "check")
    plt.close(fig)


def test_a_cohort_with_only_case_studies_and_few_tables_still_reports(tmp_path, root, settings):
    from coordkit.report import run_evaluation

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
