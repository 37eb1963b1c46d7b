"""What to revise, and the lookups the notebooks need for it: the ranked list of modules and items
to revise (`revision_candidates`, its points in `RevisionRules`), item analysis of every assignment of
a cohort (`analyse_items`), and syllabus names, item banks and rubric levels."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .load import Cohort
from .outcomes import assignment_marks


@dataclass(frozen=True)
class RevisionRules:
    """Points behind the ranked revision list (higher = revise first). Items: a negative
    discrimination index ``negative_di`` (check the key); any other flag of `item_analysis`
    ``per_flag`` each; removing the item raises alpha ``alpha_raise``. Modules: satisfaction or
    relevance top-2-box below ``top2_floor`` % ``low_top2`` each; NPS below 0 ``negative_nps``;
    a free-text theme raised negatively in at least ``theme_share`` % of a module's comments
    (and at least ``theme_min`` comments) ``per_theme``; at least ``flagged_share`` % of the items
    on the module's unit flagged (and at least ``flagged_min`` items) ``many_flagged``; mean
    facility of the unit's items below ``facility_floor`` % ``low_facility``. A target with fewer
    than ``min_n`` responses is marked tentative."""

    negative_di: int = 3
    per_flag: int = 1
    alpha_raise: int = 1
    top2_floor: float = 60.0
    low_top2: int = 2
    negative_nps: int = 1
    theme_share: float = 30.0
    theme_min: int = 3
    per_theme: int = 1
    flagged_share: float = 40.0
    flagged_min: int = 3
    many_flagged: int = 2
    facility_floor: float = 50.0
    low_facility: int = 2
    min_n: int = 20


ITEM_ACTIONS = {
    "negative discrimination": "Check the answer key and the wording; stronger trainees get it wrong.",
    "very hard": "Check that the module teaches it; reword, or move it to a later stage.",
    "very easy": "Make it more demanding, or drop it: it does not separate trainees.",
    "low discrimination": "Rewrite the distractors; the item barely separates stronger from weaker trainees.",
    "no variance": "Every trainee has the same mark: rewrite or drop the item.",
    "DE <": "Review with the item's author: Moodle would mark it dubious.",
}


def revision_candidates(*, items=None, modules=None, themes=None, rules: RevisionRules = RevisionRules()):
    """The ranked list of modules and items to revise, each with its evidence and a suggested action.

    - ``items``: item-analysis rows (index assignment, item) with at least ``facility``,
      ``discrimination_index``, ``flags``, ``n`` and ``unit``; optional ``alpha_if_deleted`` and
      ``alpha`` (the test's alpha).
    - ``modules``: `reaction_summary` by module.
    - ``themes``: `coordkit.themes.theme_table` (module x theme: negative comments, share).

    Returns rank, kind (item | module), target, unit, points, evidence, action, tentative; targets
    with no evidence are left out. The points are `RevisionRules` (documented there).
    """
    import pandas as pd

    rows: list[dict] = []
    flagged_by_unit: dict[str, int] = {}
    facility_by_unit: dict[str, float] = {}
    items_by_unit: dict[str, int] = {}
    if items is not None and len(items):
        it = items.reset_index()
        facility_by_unit = it.groupby("unit")["facility"].mean().to_dict()
        items_by_unit = it.groupby("unit").size().to_dict()
        for r in it.itertuples(index=False):
            evidence, actions, points = [], [], 0
            flags = [f.strip() for f in str(r.flags).split(";") if f.strip()]
            for flag in flags:
                points += rules.negative_di if flag.startswith("negative") else rules.per_flag
                evidence.append(flag)
                actions += [a for k, a in ITEM_ACTIONS.items() if flag.startswith(k)]
            alpha = getattr(r, "alpha", float("nan"))
            aid = getattr(r, "alpha_if_deleted", float("nan"))
            if pd.notna(aid) and pd.notna(alpha) and aid > alpha + 0.005:
                points += rules.alpha_raise
                evidence.append(f"alpha rises from {alpha:.2f} to {aid:.2f} without it")
            if points:
                flagged_by_unit[r.unit] = flagged_by_unit.get(r.unit, 0) + 1
                evidence.append(f"facility {r.facility:.0f}%, DI {r.discrimination_index:.0f}, n={int(r.n)}")
                rows.append({"kind": "item", "target": f"{r.assignment} / {r.item}", "unit": r.unit,
                             "points": points, "evidence": "; ".join(evidence),
                             "action": " ".join(dict.fromkeys(actions)) or "Review the item with its author.",
                             "tentative": int(r.n) < rules.min_n})
    if modules is not None and len(modules):
        for module, r in modules.iterrows():
            evidence, actions, points = [], [], 0
            for col, label in (("satisfaction_top2", "satisfied"), ("relevance_top2", "found it relevant")):
                if r[col] < rules.top2_floor:
                    points += rules.low_top2
                    evidence.append(f"only {r[col]:.0f}% {label} (top-2-box, n={int(r['responses'])})")
            if r["nps"] < 0:
                points += rules.negative_nps
                evidence.append(f"NPS {r['nps']:+.0f}")
            if themes is not None and module in themes.index.get_level_values(0):
                t = themes.loc[module]
                hot = t[(t["share"] >= rules.theme_share) & (t["negative"] >= rules.theme_min)]
                for theme, th in hot.iterrows():
                    points += rules.per_theme
                    evidence.append(f"{th['negative']:.0f} critical comments on {th['label']} "
                                    f"({th['share']:.0f}% of its comments)")
                    actions.append(th["action"])
            n_flag, n_items = flagged_by_unit.get(module, 0), items_by_unit.get(module, 0)
            if n_flag >= rules.flagged_min and 100 * n_flag / n_items >= rules.flagged_share:
                points += rules.many_flagged
                evidence.append(f"{n_flag} of its {n_items} test items flagged")
                actions.append("Review the unit's items with its lecturer (see the item rows of this list).")
            fac = facility_by_unit.get(module)
            if fac is not None and fac < rules.facility_floor:
                points += rules.low_facility
                evidence.append(f"mean facility of its items {fac:.0f}%")
                actions.append("Strengthen the teaching of this unit (more worked examples) before the tests.")
            if points:
                rows.append({"kind": "module", "target": str(module), "unit": str(module), "points": points,
                             "evidence": "; ".join(evidence),
                             "action": " ".join(dict.fromkeys(actions)) or "Read the module's comments and "
                             "review its content with the lecturer.",
                             "tentative": int(r["responses"]) < rules.min_n})
    out = pd.DataFrame(rows, columns=["kind", "target", "unit", "points", "evidence", "action", "tentative"])
    out = out.sort_values(["points", "kind"], ascending=[False, True], kind="stable").reset_index(drop=True)
    out.insert(0, "rank", range(1, len(out) + 1))
    return out


# --------------------------------------------------------------------------------------------
# lookups for the notebooks: syllabus names, item banks, rubric levels
# --------------------------------------------------------------------------------------------

def module_labels(syllabus_path: Path | str) -> dict[str, str]:
    """Unit code -> "TP1-B2 入管法（在留）" from book/syllabus.yml ({} if the file is absent)."""
    path = Path(syllabus_path)
    if not path.is_file():
        return {}
    from ..syllabus import load_syllabus

    return {u.code: f"{u.code} {u.name_ja}" for u in load_syllabus(path)}


def item_catalogue(items_dir: Path | str, facts_path: Path | str):
    """One row per bank item (index assignment, item): kind (auto | manual), points, unit,
    competency, difficulty; and the banks' kinds (``bank_kind``: case_study | test | report)."""
    import pandas as pd

    from ..banks import load_banks
    from ..facts import load_facts

    rows = [{"assignment": b.id, "item": it.grade_id, "bank_kind": b.kind, "kind": "auto" if it.auto else "manual",
             "points": it.points, "unit": it.unit, "competency": it.competency, "difficulty": it.difficulty}
            for b in load_banks(Path(items_dir), load_facts(Path(facts_path))) for it in b.items]
    return pd.DataFrame(rows).set_index(["assignment", "item"])


def rubric_levels(rubrics_dir: Path | str) -> dict[tuple[str, str, str], tuple[float, ...]]:
    """(assignment, grade_id, criterion) -> the declared level points of the rubric, for weighted kappa."""
    from ..rubrics import load_rubrics

    return {(a, cell.grade_id, c.id): tuple(lv.points for lv in c.levels)
            for a, rubric in load_rubrics(Path(rubrics_dir)).items() for cell in rubric.cells.values()
            for c in cell.criteria}


def analyse_items(cohort: Cohort, *, assignments: Sequence[str] | None = None, catalogue=None):
    """Item analysis (`coordkit.evaluation.item_analysis`, Moodle's definitions) of each assignment
    with scores, written answers included with their rubric marks. A written item nobody has a mark
    for yet is left out (listed in ``skipped``); other missing marks count 0, as in Moodle.

    Returns (items, tests, skipped): ``items`` one row per item (index assignment, item) with the
    item statistics, ``alpha`` (the test's alpha = CIC/100), ``alpha_if_deleted`` and, from
    `catalogue`, unit and competency; ``tests`` one row per assignment (QuizStatistics);
    ``skipped`` {assignment: [items]}."""
    import pandas as pd

    from .evaluation import alpha_if_deleted, item_analysis

    frames, tests, skipped = [], [], {}
    for assignment in assignments if assignments is not None else cohort.assignments:
        wide, max_marks = assignment_marks(cohort, assignment)
        empty = [c for c in wide.columns if wide[c].isna().all()]
        if empty:
            skipped[assignment] = empty
        wide = wide.drop(columns=empty)
        if wide.shape[1] < 2 or wide.notna().any(axis=1).sum() < 3:
            skipped.setdefault(assignment, []).extend(wide.columns)
            continue
        result = item_analysis(wide, max_marks=max_marks[wide.columns])
        items = result.to_frame()
        items["alpha"] = result.test.cic / 100
        if wide.shape[1] >= 3:
            items["alpha_if_deleted"] = alpha_if_deleted(wide.fillna(0.0))
        frames.append(items.assign(assignment=assignment).set_index("assignment", append=True)
                      .reorder_levels(["assignment", "item"]))
        tests.append({"assignment": assignment, **result.test.to_dict()})
    items = pd.concat(frames) if frames else pd.DataFrame()
    if catalogue is not None and len(items):
        items = items.join(catalogue[["unit", "competency", "kind"]], how="left")
    return items, pd.DataFrame(tests).set_index("assignment") if tests else pd.DataFrame(), skipped
