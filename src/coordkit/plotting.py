"""Plot helpers for the evaluator notebooks: Japanese labels render with the IPAexGothic font that
matplotlib-fontja ships (no system font and no network needed)."""

from __future__ import annotations

from pathlib import Path


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
