"""Plot helpers for the evaluator notebooks: Japanese labels render with the IPAexGothic font that
matplotlib-fontja ships (no system font and no network needed), and the few chart types the
notebooks repeat live here so the notebooks stay short."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

LIKERT_COLOURS = ("#b2182b", "#ef8a62", "#d9d9d9", "#67a9cf", "#2166ac")   # 1 ... 5, colour-blind safe
FLAG = "#b35900"
PLAIN = "#2f6f9f"


def use_japanese_font() -> str:
    """Make matplotlib render Japanese text; returns the font family in use."""
    import matplotlib
    import matplotlib_fontja  # noqa: F401  (registers IPAexGothic and sets it as the default family)

    matplotlib_fontja.japanize()
    return matplotlib.rcParams["font.family"][0]


def save_figure(fig, folder: Path | str, name: str) -> Path:
    """Save a figure as PNG (for the report folder) and return its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    fig.savefig(path, dpi=120, bbox_inches="tight")
    return path


def likert_bars(counts, *, title: str, labels: Mapping[int, str] | None = None, ax=None):
    """Diverging stacked bars of a 1-5 Likert item: one bar per row of `counts` (columns 1..5,
    counts), centred on the middle category, in percent of the row."""
    import matplotlib.pyplot as plt
    import numpy as np

    share = counts.reindex(columns=[1, 2, 3, 4, 5], fill_value=0)
    share = 100 * share.div(share.sum(axis=1).replace(0, np.nan), axis=0).fillna(0)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.38 * len(share) + 1.4))
    left = -(share[1] + share[2] + share[3] / 2)
    names = labels or {1: "1 全くそう思わない", 2: "2", 3: "3", 4: "4", 5: "5 とてもそう思う"}
    for level, colour in zip([1, 2, 3, 4, 5], LIKERT_COLOURS):
        ax.barh([str(i) for i in share.index], share[level], left=left, color=colour, label=names[level])
        left = left + share[level]
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("回答の割合（%、中央は「3」の中心）")
    ax.set_title(title)
    ax.invert_yaxis()
    ax.legend(ncol=5, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12 - 0.4 / max(len(share), 1)),
              frameon=False)
    return ax.figure


def ranked_bars(values, *, title: str, xlabel: str, highlight=None, xlim=None, ax=None):
    """Horizontal bars in the order given; rows where `highlight` is true are drawn in the flag colour."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 0.36 * len(values) + 1.2))
    colours = [FLAG if h else PLAIN for h in (highlight if highlight is not None else [False] * len(values))]
    ax.barh([str(i) for i in values.index], values.to_numpy(), color=colours)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    if xlim:
        ax.set_xlim(*xlim)
    ax.invert_yaxis()
    return ax.figure


def heatmap(frame, *, title: str, label: str, fmt: str = "{:.0f}", ax=None):
    """A labelled heatmap of a small numeric table (rows x columns); NaN cells stay blank."""
    import matplotlib.pyplot as plt
    import numpy as np

    if ax is None:
        _, ax = plt.subplots(figsize=(0.9 * frame.shape[1] + 3, 0.4 * frame.shape[0] + 1.6))
    data = frame.to_numpy(dtype=float)
    image = ax.imshow(np.ma.masked_invalid(data), cmap="Oranges", aspect="auto", vmin=0)
    ax.set_xticks(range(frame.shape[1]), [str(c) for c in frame.columns], rotation=35, ha="right")
    ax.set_yticks(range(frame.shape[0]), [str(i) for i in frame.index])
    for (i, j), v in np.ndenumerate(data):
        if not np.isnan(v):
            ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=8)
    ax.figure.colorbar(image, ax=ax, label=label)
    ax.set_title(title)
    return ax.figure


def cumulative_plot(plans: Mapping[str, object], *, targets: Mapping[str, int], start: tuple[int, float],
                    title: str, ax=None):
    """Cumulative certified coordinators per fiscal year for one or more plans (label -> the
    `CapacityPlan.years` frame), from the point `start` (fiscal year, certified), with the targets
    as horizontal lines."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 4))
    for (label, years), style in zip(plans.items(), ("-", "--", ":", "-.")):
        xs = [start[0], *years.index]
        ys = [start[1], *years["cumulative"]]
        ax.plot(xs, ys, style, marker="o", label=label)
    for label, value in targets.items():
        ax.axhline(value, color="grey", linewidth=0.8)
        ax.text(start[0], value, f" {label}", va="bottom", fontsize=8, color="dimgrey")
    ax.set_xlabel("年度（4月〜翌年3月）")
    ax.set_ylabel("認定者数の累計（人）")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax.figure
