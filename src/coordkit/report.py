"""The evaluator's report: run every notebook in graders/evaluation/ with parameters (papermill) on a
cohort folder, and write one HTML report per notebook plus the figures as PNG to reports/<cohort>/."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .config import Settings
from .errors import DatasetError, OutputError, ToolError


@dataclass
class ReportResult:
    cohort: str
    out_dir: Path
    html: list[Path] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"cohort": self.cohort, "html": [str(p) for p in self.html],
                "figures": [str(p) for p in self.figures]}


def evaluation_notebooks(settings: Settings) -> list[Path]:
    return sorted(p for p in settings.evaluation_dir.glob("*.ipynb") if not p.name.startswith("_"))


def run_evaluation(*, settings: Settings, cohort: str, data_dir: Path | None = None,
                   out_dir: Path | None = None, tick: Callable[[str], None] | None = None) -> ReportResult:
    """Execute the evaluator notebooks on `data_dir` (default datasets/cohorts/<cohort>) and write
    HTML (code hidden) and PNG figures to `out_dir` (default reports/<cohort>)."""
    import nbformat
    import papermill as pm
    from nbconvert import HTMLExporter

    from .cohort import load_cohort

    data_dir = Path(data_dir or settings.cohorts_dir / cohort).resolve()
    load_cohort(data_dir, name=cohort)          # validate before spending time on kernels
    out_dir = Path(out_dir or settings.reports_dir / cohort).resolve()
    figures = out_dir / "figures"
    try:
        figures.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write the report folder {out_dir} ({exc.strerror}); "
                          "pass a writable --out or fix its permissions") from None
    result = ReportResult(cohort=cohort, out_dir=out_dir)
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    for notebook in evaluation_notebooks(settings):
        executed = out_dir / notebook.name
        try:
            pm.execute_notebook(str(notebook), str(executed), cwd=str(notebook.parent), progress_bar=False,
                                kernel_name="python3", log_output=False,
                                parameters={"data_dir": str(data_dir), "cohort": cohort,
                                            "figures_dir": str(figures)})
        except pm.PapermillExecutionError as exc:
            raise ToolError(f"{notebook.name} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue}; "
                            f"the executed notebook is {executed}") from None
        body, _ = exporter.from_notebook_node(nbformat.read(executed, as_version=4))
        html = out_dir / f"{notebook.stem}.html"
        html.write_text(body, encoding="utf-8")
        result.html.append(html)
        if tick:
            tick(notebook.name)
    result.figures = sorted(figures.glob("*.png"))
    if not result.html:
        raise DatasetError(f"no evaluation notebooks in {settings.evaluation_dir}")
    return result
