"""The evaluator's report: run every notebook in graders/evaluation/ with parameters (papermill) on a
cohort folder, and combine them into ONE HTML report (code hidden) plus the figures as PNG, in
reports/<cohort>/. The executed notebooks are kept in reports/<cohort>/notebooks/ for inspection."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..config import Settings
from ..errors import DatasetError, OutputError, ToolError

# The order of the sections in the report (file stems); a notebook not listed comes after these.
REPORT_ORDER = ("overview", "reaction", "learning", "rater_agreement", "behaviour_results", "subgroups",
                "revision", "capacity")
REPORT_NAME = "cohort_report.html"


@dataclass
class ReportResult:
    cohort: str
    out_dir: Path
    report: Path | None = None
    notebooks: list[Path] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)

    @property
    def html(self) -> list[Path]:
        """The report as a one-element list (the shape `coordkit demo` prints)."""
        return [self.report] if self.report else []

    def to_dict(self) -> dict:
        return {"cohort": self.cohort, "report": str(self.report), "notebooks": [str(p) for p in self.notebooks],
                "figures": [str(p) for p in self.figures]}


def evaluation_notebooks(settings: Settings) -> list[Path]:
    """The evaluator notebooks in report order (REPORT_ORDER, then the others by name); files whose
    name starts with "_" are drafts and skipped."""
    found = [p for p in settings.evaluation_dir.glob("*.ipynb") if not p.name.startswith("_")]
    rank = {stem: i for i, stem in enumerate(REPORT_ORDER)}
    return sorted(found, key=lambda p: (rank.get(p.stem, len(rank)), p.name))


def _parameters(settings: Settings, *, data_dir: Path, cohort: str, figures: Path,
                gradebook: bool = False) -> dict[str, str | float]:
    from ..rule import gate_pass_marks

    # pass_mark: the completion test's mark of the certification rule ([tool.coordkit.certification])
    params = {"pass_mark": gate_pass_marks(settings.certification)["completion_test"],
              "data_dir": str(data_dir), "cohort": cohort, "figures_dir": str(figures),
              "facts_path": str(settings.facts), "items_dir": str(settings.items_dir),
              "rubrics_dir": str(settings.rubrics_dir), "syllabus_path": str(settings.syllabus),
              "project_root": str(settings.root)}
    if gradebook:
        params.update(gradebook_url=settings.db_url, course_root=str(settings.course_root))
    return params


def gradebook_rubric_scores(gradebook_url: str, *, course_root: Path | str, project_root: Path | str,
                            trainees=None, assignments=None):
    """The double marks, per criterion and per rater, read from the marking tables of a gradebook
    (`coordkit.marking.marks_frame`: every first and second marker's latest mark; moderators' marks
    are not rater-agreement data). The same frame `coordkit mark scores` writes as rubric_scores.csv.
    ``trainees`` / ``assignments`` keep only this cohort's rows (a gradebook may hold other cohorts)."""
    from ..config import load_settings
    from ..errors import ConfigError
    from ..marking import marks_frame

    course_root = Path(course_root)
    if not (course_root / "nbgrader_config.py").is_file():
        raise ConfigError(f"course_root {course_root} has no nbgrader_config.py; pass the course folder whose "
                          f"gradebook holds the marks (coordkit evaluate --gradebook uses the settings' course)")
    settings = load_settings(Path(project_root)).with_overrides(db_url=gradebook_url, course_root=course_root)
    frame = marks_frame(settings)
    if trainees is not None:
        frame = frame[frame["trainee_id"].isin(set(trainees))]
    if assignments is not None:
        frame = frame[frame["assignment"].isin(set(assignments))]
    return frame.reset_index(drop=True)


def _apply_alt_text(html: str, notebook) -> str:
    """Every <img> of the report gets the alt text its output carried (`coordkit.plotting.save_figure`
    puts the figure's finding in output.metadata["image/png"]["alt"]); an image without one is an
    error (nbconvert would write a placeholder that says nothing)."""
    from bs4 import BeautifulSoup

    from .plotting import ALT_KEY

    alts = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {}).get("image/png")
            if data:
                alt = (output.get("metadata", {}).get("image/png", {}) or {}).get(ALT_KEY) \
                    or output.get("metadata", {}).get(ALT_KEY)
                alts["".join(data.split())] = alt
    soup = BeautifulSoup(html, features="html.parser")
    missing = 0
    for img in soup.find_all("img"):
        src = img.get("src", "")
        alt = alts.get("".join(src.partition(",")[2].split())) if src.startswith("data:image/png") else None
        if alt:
            img["alt"] = alt
        elif not img.get("alt") or img["alt"].startswith("No description"):
            missing += 1
    if missing:
        raise ToolError(f"{missing} figure(s) of the report have no alt text; draw them with "
                        f"coordkit.plotting.save_figure (it states each figure's finding)")
    if soup.html is not None:
        soup.html["lang"] = "ja"
    return str(soup)


def combine_notebooks(executed: list, *, title: str, intro: str):
    """One notebook from several executed ones: a title cell, then each notebook's cells without its
    parameters cells (papermill's "parameters" and "injected-parameters" tags)."""
    import nbformat

    combined = nbformat.v4.new_notebook()
    combined.metadata = executed[0].metadata if executed else {}
    combined.cells.append(nbformat.v4.new_markdown_cell(f"# {title}\n\n{intro}"))
    for nb in executed:
        for cell in nb.cells:
            tags = set(cell.get("metadata", {}).get("tags", []))
            if tags & {"parameters", "injected-parameters"}:
                continue
            combined.cells.append(cell)
    return combined


def run_evaluation(*, settings: Settings, cohort: str, data_dir: Path | None = None,
                   out_dir: Path | None = None, gradebook: bool = False,
                   tick: Callable[[str], None] | None = None) -> ReportResult:
    """Execute the evaluator notebooks on `data_dir` (default datasets/cohorts/<cohort>) and write
    `out_dir`/cohort_report.html (default reports/<cohort>/; all sections, code hidden, figures
    embedded, each with alt text stating its finding) and the figures as PNG in `out_dir`/figures/.
    Each notebook gets the parameters it declares among data_dir, cohort, figures_dir, facts_path,
    items_dir, rubrics_dir, syllabus_path, project_root and, with ``gradebook=True``, gradebook_url
    and course_root (the settings' gradebook: the rater-agreement section then reads the double
    marks from its marking tables instead of rubric_scores.csv)."""
    import nbformat
    import papermill as pm
    from nbconvert import HTMLExporter

    from .load import load_cohort

    data_dir = Path(data_dir or settings.cohorts_dir / cohort).resolve()
    if gradebook and not (settings.course_root / "nbgrader_config.py").is_file():
        from ..errors import ConfigError

        raise ConfigError(f"--gradebook: the course folder {settings.course_root} has no nbgrader_config.py, so "
                          f"it holds no marks; pick the course with --course-id, or leave out --gradebook to use "
                          f"rubric_scores.csv")
    load_cohort(data_dir, name=cohort)          # validate before spending time on kernels
    notebooks = evaluation_notebooks(settings)
    if not notebooks:
        raise DatasetError(f"no evaluation notebooks in {settings.evaluation_dir}; restore them from git")
    out_dir = Path(out_dir or settings.reports_dir / cohort).resolve()
    figures = out_dir / "figures"
    executed_dir = out_dir / "notebooks"
    try:
        figures.mkdir(parents=True, exist_ok=True)
        executed_dir.mkdir(parents=True, exist_ok=True)
        for old in [*figures.glob("*.png"), *figures.glob("*.alt.txt")]:
            old.unlink()
    except OSError as exc:
        raise OutputError(f"cannot write the report folder {out_dir} ({exc.strerror}); "
                          "pass a writable --out or fix its permissions") from None
    params = _parameters(settings, data_dir=data_dir, cohort=cohort, figures=figures, gradebook=gradebook)
    result = ReportResult(cohort=cohort, out_dir=out_dir)
    executed = []
    for notebook in notebooks:
        target = executed_dir / notebook.name
        declared = pm.inspect_notebook(str(notebook))
        try:
            pm.execute_notebook(str(notebook), str(target), cwd=str(notebook.parent), progress_bar=False,
                                kernel_name="python3", log_output=False,
                                parameters={k: v for k, v in params.items() if k in declared})
        except pm.PapermillExecutionError as exc:
            raise ToolError(f"{notebook.name} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue}; "
                            f"the executed notebook is {target}") from None
        executed.append(nbformat.read(target, as_version=4))
        result.notebooks.append(target)
        if tick:
            tick(notebook.name)
    intro = (f"コホート **{cohort}** の評価レポート / Evaluation report of cohort **{cohort}**, "
             f"generated {dt.date.today().isoformat()} by `coordkit evaluate` from `{data_dir}`. "
             "Sections: reaction (level 1), learning (level 2), rater agreement, behaviour and results "
             "(levels 3 and 4), subgroups, what to revise, capacity. Every assumption is labelled "
             "where it is used. All data in this repository is synthetic.")
    combined = combine_notebooks(executed, title=f"コホート評価レポート / Cohort evaluation report: {cohort}",
                                 intro=intro)
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(combined)
    body = _apply_alt_text(body, combined)
    result.report = out_dir / REPORT_NAME
    result.report.write_text(body, encoding="utf-8")
    result.figures = sorted(figures.glob("*.png"))
    return result
