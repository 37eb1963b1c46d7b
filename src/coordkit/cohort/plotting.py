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


ALT_KEY = "alt"            # output.metadata["image/png"]["alt"]: read by coordkit.report


def set_alt(fig, text: str):
    """Attach the alt text (what the figure shows, with its numbers) that `save_figure` will use."""
    fig._coordkit_alt = " ".join(str(text).split())
    return fig


def _fmt(v) -> str:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return str(v)                      # a category on the axis (e.g. "研修後")
    return f"{v:.2f}".rstrip("0").rstrip(".") if abs(v) < 100 else f"{v:.0f}"


def describe_figure(fig) -> str:
    """A finding computed from what the figure draws, for figures made without `set_alt`: per axes,
    its title, then the highest and lowest bar (label and value), or where each line ends.
    Japanese, then English."""
    ja, en = [], []
    for ax in fig.axes:
        if not ax.has_data() or ax.get_label() == "<colorbar>":
            continue
        title = ax.get_title() or ax.get_ylabel() or ax.get_xlabel()
        bars = []
        for container in ax.containers:
            horizontal = getattr(container, "orientation", "vertical") == "horizontal"
            ticks = [t.get_text() for t in (ax.get_yticklabels() if horizontal else ax.get_xticklabels())]
            label = container.get_label()
            for i, patch in enumerate(container.patches):
                value = patch.get_width() if horizontal else patch.get_height()
                name = ticks[i] if i < len(ticks) and ticks[i] else (label if label and not label.startswith("_") else str(i + 1))
                bars.append((float(value), name))
        lines = [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 1 and not ln.get_label().startswith("_")]
        if bars:
            top, low = max(bars), min(bars)
            ja.append(f"{title}: 最大は{top[1]}（{_fmt(top[0])}）、最小は{low[1]}（{_fmt(low[0])}）、{len(bars)}本の棒。")
            en.append(f"{len(bars)} bars; highest {top[1]} ({_fmt(top[0])}), lowest {low[1]} ({_fmt(low[0])}).")
        elif lines:
            ends = [(ln.get_label(), ln.get_xdata()[-1], ln.get_ydata()[-1]) for ln in lines]
            ja.append(f"{title}: " + "、".join(f"{n}は{_fmt(x)}で{_fmt(y)}" for n, x, y in ends) + "。")
            en.append("Lines end at " + "; ".join(f"{n}: {_fmt(y)} at {_fmt(x)}" for n, x, y in ends) + ".")
        else:
            images = ax.get_images()
            if images:
                data = images[0].get_array()
                ja.append(f"{title}: 値は{_fmt(float(data.min()))}〜{_fmt(float(data.max()))}。")
                en.append(f"Values range from {_fmt(float(data.min()))} to {_fmt(float(data.max()))}.")
            else:
                points = sum(len(c.get_offsets()) for c in ax.collections if hasattr(c, "get_offsets"))
                ja.append(f"{title}: {points}点の散布図。")
                en.append(f"Scatter plot of {points} points.")
    return " ".join(ja) + " / " + " ".join(en)


def save_figure(fig, folder: Path | str, name: str, *, alt: str | None = None) -> Path:
    """Save a figure as PNG (for the report folder) and return its path.

    In a notebook the figure is also shown here, with its alt text in the output's metadata (which
    `coordkit.report` writes into the <img alt>), and closed, so a following ``plt.show()`` shows it
    only once. The alt text states the figure's finding: ``alt``, or what `set_alt` attached
    (the chart helpers below do), or else `describe_figure`. It is also written next to the PNG as
    ``<name>.alt.txt``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    fig.savefig(path, dpi=120, bbox_inches="tight")
    text = " ".join((alt or getattr(fig, "_coordkit_alt", None) or describe_figure(fig)).split())
    (folder / f"{name}.alt.txt").write_text(text + "\n", encoding="utf-8")
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:                                       # pragma: no cover - IPython ships with Jupyter
        shell = None
    if shell is not None and getattr(shell, "kernel", None) is not None:
        import matplotlib.pyplot as plt
        from IPython.display import Image, display

        display(Image(data=path.read_bytes(), format="png", metadata={ALT_KEY: text}))
        plt.close(fig)
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
    agree = (share[4] + share[5]).sort_values()
    if len(agree):
        set_alt(ax.figure, f"{title}: 肯定（4・5）の割合が最も高いのは{agree.index[-1]}（{agree.iloc[-1]:.0f}%）、"
                           f"最も低いのは{agree.index[0]}（{agree.iloc[0]:.0f}%）。 / Share answering 4 or 5: highest "
                           f"{agree.index[-1]} ({agree.iloc[-1]:.0f}%), lowest {agree.index[0]} ({agree.iloc[0]:.0f}%), "
                           f"{len(agree)} items.")
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
    ordered = values.dropna().sort_values()
    if len(ordered):
        flagged = sum(bool(h) for h in highlight) if highlight is not None else 0
        set_alt(ax.figure, f"{title}: 最大は{ordered.index[-1]}（{_fmt(ordered.iloc[-1])}）、最小は{ordered.index[0]}"
                           f"（{_fmt(ordered.iloc[0])}）、強調{flagged}件。 / {xlabel}: highest {ordered.index[-1]} "
                           f"({_fmt(ordered.iloc[-1])}), lowest {ordered.index[0]} ({_fmt(ordered.iloc[0])}); "
                           f"{flagged} of {len(values)} flagged.")
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
    if np.isfinite(data).any():
        i, j = np.unravel_index(np.nanargmax(data), data.shape)
        top = fmt.format(data[i, j])
        set_alt(ax.figure, f"{title}: 最大は{frame.index[i]} × {frame.columns[j]}（{top}、{label}）。 / Largest cell: "
                           f"{frame.index[i]} x {frame.columns[j]} ({top}), of {frame.shape[0]} x {frame.shape[1]}.")
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
    ends = [(label, years.index[-1], float(years["cumulative"].iloc[-1])) for label, years in plans.items() if len(years)]
    if ends:
        goals = "、".join(f"{k}（{v}人）" if str(v) not in str(k) else str(k) for k, v in targets.items())
        set_alt(ax.figure, f"{title}: " + "、".join(f"{n}は{y}年度に累計{c:.0f}人" for n, y, c in ends)
                + (f"（目標: {goals}）" if goals else "") + "。 / Cumulative certified: "
                + "; ".join(f"{n}: {c:.0f} by FY{y}" for n, y, c in ends)
                + (f" (targets: {', '.join(f'{v}' for v in targets.values())})" if targets else "") + ".")
    return ax.figure
