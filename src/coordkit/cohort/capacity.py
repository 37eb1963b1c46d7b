"""The capacity plan: how many cohorts the lecturer roster can run each fiscal year, how many
coordinators that certifies, and when the targets are met.

The model is deliberately simple and every number in it is a parameter the notebook shows:

- a cohort needs lecturer-days per role (`CohortDemand`): Training Program 2 facilitators (one per
  group of about six trainees, for the length of TP2), practice supervisors (days per trainee over
  the practice) and raters of the written answers (days per trainee, double-marking included). The
  group size and the length of TP2 are the curriculum's Appendix A placeholders, NOT confirmed by
  ISA; the supervision and marking days are assumptions of this toolkit;
- the online Training Program 1 is on-demand video and is not a constraint;
- the cohorts a year = the smallest, over the roles, of (days available / days a cohort needs),
  capped at `max_cohorts_per_year` (recruitment rounds), unless the number is already published for
  that year (`fixed_cohorts`);
- certified per cohort = cohort size x certification rate (estimated from a cohort's enrolment).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

from ..errors import DatasetError


@dataclass(frozen=True)
class CohortDemand:
    """Lecturer-days one cohort needs, per role of the roster."""

    cohort_size: int
    group_size: int = 6                          # Appendix A placeholder: TP2 groups of about 6
    tp2_days: float = 2.0                        # Appendix A placeholder: 2 days of TP2 [NOT CONFIRMED]
    supervision_days_per_trainee: float = 1.5    # ASSUMPTION: practice supervision over ~3 months
    marking_days_per_trainee: float = 0.5        # ASSUMPTION: written answers, double-marking included

    def days(self) -> dict[str, float]:
        groups = math.ceil(self.cohort_size / self.group_size)
        return {"tp2_facilitator": groups * self.tp2_days,
                "practice_supervisor": self.cohort_size * self.supervision_days_per_trainee,
                "rater": self.cohort_size * self.marking_days_per_trainee}

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, eq=False)
class CapacityPlan:
    """``years``: one row per fiscal year: available days per role (``days_<role>``), cohorts each
    role could support (``max_<role>``), ``cohorts`` run, ``binding`` (the role that limits, or
    "published"/"cap"), ``certified`` (expected) and ``cumulative`` (including those certified
    before the plan). ``targets``: target name -> (value, first fiscal year it is met, or None)."""

    years: Any = field(repr=False)
    targets: dict[str, tuple[int, int | None]]
    demand: CohortDemand
    certification_rate: float
    certified_before: int

    def to_frame(self):
        return self.years.copy()

    def met_in(self, name: str) -> int | None:
        return self.targets[name][1]


def certification_rate(enrolment) -> tuple[float, float, float, int]:
    """Certified / enrolled from an enrolment table, with its 95 % Wilson interval:
    (rate, low, high, enrolled)."""
    enrolled = int((enrolment["stage"] == "enrolled").sum())
    if enrolled == 0:
        raise DatasetError("the enrolment table has no 'enrolled' rows; the certification rate needs them")
    k = int((enrolment["stage"] == "certified").sum())
    p = k / enrolled
    z = 1.959963984540054
    den = 1 + z * z / enrolled
    centre = (p + z * z / (2 * enrolled)) / den
    half = z * math.sqrt(p * (1 - p) / enrolled + z * z / (4 * enrolled * enrolled)) / den
    return p, max(0.0, centre - half), min(1.0, centre + half), enrolled


def plan_capacity(roster, *, demand: CohortDemand, certification_rate: float, certified_before: int,
                  targets: Mapping[str, int], fixed_cohorts: Mapping[int, int] | None = None,
                  max_cohorts_per_year: int = 4, first_year: int | None = None) -> CapacityPlan:
    """Plan the fiscal years of `roster` (lecturer_id, role, fiscal_year, available_days) from
    `first_year` on (default: the roster's first year). `certified_before` counts the coordinators
    certified before the plan starts; `targets` maps a name to a number of certified coordinators."""
    import pandas as pd

    if not 0 < certification_rate <= 1:
        raise ValueError(f"certification_rate must be in (0, 1], not {certification_rate!r}")
    need = demand.days()
    unknown = sorted(set(roster["role"]) - set(need))
    if unknown:
        raise DatasetError(f"roster roles {unknown} are not in the capacity model; known roles: {', '.join(need)}")
    days = roster.pivot_table(index="fiscal_year", columns="role", values="available_days", aggfunc="sum",
                              fill_value=0.0).reindex(columns=list(need), fill_value=0.0)
    years = sorted(int(y) for y in days.index if first_year is None or y >= first_year)
    fixed = dict(fixed_cohorts or {})
    rows, cumulative = [], float(certified_before)
    for year in years:
        row: dict[str, Any] = {"fiscal_year": year}
        possible = {}
        for role, per in need.items():
            row[f"days_{role}"] = float(days.loc[year, role])
            possible[role] = int(math.floor(row[f"days_{role}"] / per + 1e-9)) if per > 0 else max_cohorts_per_year
            row[f"max_{role}"] = possible[role]
        limit = min(possible.values())
        if year in fixed:
            cohorts, binding = fixed[year], "published"
        elif limit >= max_cohorts_per_year:
            cohorts, binding = max_cohorts_per_year, "cap"
        else:
            cohorts, binding = limit, min(possible, key=possible.get)
        row["roster_limit"] = limit
        row["cohorts"] = cohorts
        row["binding"] = binding
        row["certified"] = cohorts * demand.cohort_size * certification_rate
        cumulative += row["certified"]
        row["cumulative"] = cumulative
        rows.append(row)
    frame = pd.DataFrame(rows).set_index("fiscal_year") if rows else pd.DataFrame()
    met = {}
    for name, value in targets.items():
        hit = frame.index[frame["cumulative"] >= value - 1e-9] if len(frame) else []
        met[name] = (int(value), int(hit[0]) if len(hit) else None)
    return CapacityPlan(years=frame, targets=met, demand=demand, certification_rate=certification_rate,
                        certified_before=int(certified_before))


def shortfall(plan: CapacityPlan, *, target: int, by_year: int) -> dict:
    """What it takes to reach `target` certified by the end of fiscal year `by_year`: the expected
    shortfall, the extra cohorts needed, and per role the extra lecturer-days beyond the days left
    unused in the plan's years up to `by_year` (0 when the spare days suffice)."""
    years = plan.years.loc[plan.years.index <= by_year]
    reached = float(years["cumulative"].iloc[-1]) if len(years) else float(plan.certified_before)
    gap = max(0.0, target - reached)
    per_cohort = plan.demand.cohort_size * plan.certification_rate
    extra = math.ceil(gap / per_cohort - 1e-9) if gap > 0 else 0
    need = plan.demand.days()
    out = {"target": target, "by_year": by_year, "expected": reached, "shortfall": gap, "extra_cohorts": extra,
           "extra_days": {}}
    for role, per in need.items():
        used = (years["cohorts"] * per).sum()
        spare = max(0.0, float(years[f"days_{role}"].sum() - used))
        out["extra_days"][role] = max(0.0, extra * per - spare)
    return out
