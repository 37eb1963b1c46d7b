"""Report figures carry alt text that states their finding (issue 16, point 5): computed by the chart
helpers from their data, written next to the PNG, and put on the report's <img> by coordkit.report."""

from __future__ import annotations

import base64

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402


def test_ranked_bars_alt_names_the_highest_and_lowest_bar_with_values(tmp_path):
    from coordkit.cohort.plotting import ranked_bars, save_figure, use_japanese_font

    use_japanese_font()

    values = pd.Series({"lecturer_a": -0.55, "lecturer_b": 0.04, "lecturer_c": 0.51})
    fig = ranked_bars(values, title="採点者ごとの甘さ", xlabel="difference (points)",
                      highlight=[True, False, True])
    save_figure(fig, tmp_path, "severity")
    plt.close(fig)
    alt = (tmp_path / "severity.alt.txt").read_text(encoding="utf-8")
    assert "最大はlecturer_c（0.51）" in alt and "最小はlecturer_a（-0.55）" in alt
    assert "highest lecturer_c (0.51), lowest lecturer_a (-0.55); 2 of 3 flagged" in alt


def test_a_plain_matplotlib_figure_is_described_from_its_bars(tmp_path):
    from coordkit.cohort.plotting import save_figure, use_japanese_font

    use_japanese_font()
    fig, ax = plt.subplots()
    ax.bar(["申込", "修了"], [60, 41])
    ax.set_title("段階ごとの人数")
    save_figure(fig, tmp_path, "funnel")
    plt.close(fig)
    alt = (tmp_path / "funnel.alt.txt").read_text(encoding="utf-8")
    assert alt.startswith("段階ごとの人数: 最大は申込（60）、最小は修了（41）")
    assert "highest 申込 (60), lowest 修了 (41)" in alt


def _notebook_with_png(png: bytes, metadata: dict):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": base64.b64encode(png).decode()},
                                           metadata=metadata)]
    nb.cells.append(cell)
    return nb


def test_report_puts_the_alt_text_on_the_img_and_refuses_an_image_without_one(tmp_path):
    from nbconvert import HTMLExporter

    from coordkit.errors import ToolError
    from coordkit.cohort.report import _apply_alt_text

    fig, ax = plt.subplots()
    ax.plot([1, 2], [3, 4])
    fig.savefig(tmp_path / "x.png")
    plt.close(fig)
    png = (tmp_path / "x.png").read_bytes()
    alt = "κ = 0.62（95%CI 0.48〜0.75） / kappa 0.62 (95% CI 0.48-0.75)"
    nb = _notebook_with_png(png, {"image/png": {"alt": alt}})
    html = _apply_alt_text(HTMLExporter().from_notebook_node(nb)[0], nb)
    assert f'alt="{alt}"' in html and '<html lang="ja"' in html
    bare = _notebook_with_png(png, {})
    with pytest.raises(ToolError, match="no alt text"):
        _apply_alt_text(HTMLExporter().from_notebook_node(bare)[0], bare)
