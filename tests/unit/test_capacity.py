"""The capacity plan: lecturer-days -> cohorts -> certified coordinators -> the year targets are met."""

import math

import pandas as pd
import pytest

from coordkit.cohort.capacity import CohortDemand, certification_rate, plan_capacity, shortfall
from coordkit.errors import DatasetError


def roster(days_by_year: dict[int, dict[str, float]]):
    return pd.DataFrame([{"lecturer_id": f"lec{year}{role}", "role": role, "fiscal_year": year, "available_days": d}
                         for year, roles in days_by_year.items() for role, d in roles.items()])


DEMAND = CohortDemand(cohort_size=60, group_size=6, tp2_days=2, supervision_days_per_trainee=1.5,
                      marking_days_per_trainee=0.5)


def test_a_cohort_of_60_in_groups_of_6_for_2_days_needs_20_facilitator_days():
    assert DEMAND.days() == {"tp2_facilitator": 20, "practice_supervisor": 90, "rater": 30}
    assert CohortDemand(cohort_size=61).days()["tp2_facilitator"] == 22      # an 11th group


def test_the_scarcest_role_sets_the_number_of_cohorts():
    plan = plan_capacity(roster({2026: {"tp2_facilitator": 65, "practice_supervisor": 200, "rater": 100}}),
                         demand=DEMAND, certification_rate=0.5, certified_before=0, targets={})
    year = plan.years.loc[2026]
    assert (year["max_tp2_facilitator"], year["max_practice_supervisor"], year["max_rater"]) == (3, 2, 3)
    assert year["cohorts"] == 2 and year["binding"] == "practice_supervisor"
    assert year["certified"] == 60


def test_published_cohorts_override_and_the_cap_applies():
    days = {"tp2_facilitator": 1000, "practice_supervisor": 1000, "rater": 1000}
    plan = plan_capacity(roster({2025: {"tp2_facilitator": 20, "practice_supervisor": 90, "rater": 30}, 2026: days}),
                         demand=DEMAND, certification_rate=1.0, certified_before=52, targets={},
                         fixed_cohorts={2025: 2}, max_cohorts_per_year=4)
    assert plan.years.loc[2025, "cohorts"] == 2 and plan.years.loc[2025, "binding"] == "published"
    assert plan.years.loc[2025, "roster_limit"] == 1
    assert plan.years.loc[2026, "cohorts"] == 4 and plan.years.loc[2026, "binding"] == "cap"


def test_the_year_each_target_is_met():
    days = {"tp2_facilitator": 40, "practice_supervisor": 180, "rater": 60}           # 2 cohorts a year
    plan = plan_capacity(roster({y: days for y in range(2025, 2031)}), demand=DEMAND, certification_rate=0.85,
                         certified_before=52, targets={"300": 300, "600": 600, "5000": 5000})
    # 2 cohorts x 60 x 0.85 = 102 a year on top of 52: 154, 256, 358 (FY2027), ..., 562, 664 (FY2030)
    assert plan.met_in("300") == 2027 and plan.met_in("600") == 2030 and plan.met_in("5000") is None
    gap = shortfall(plan, target=300, by_year=2026)
    assert gap["shortfall"] == pytest.approx(44) and gap["extra_cohorts"] == 1
    assert gap["extra_days"]["tp2_facilitator"] == 20                                # no spare days in the roster


def test_spare_days_reduce_what_must_be_added():
    days = {"tp2_facilitator": 50, "practice_supervisor": 180, "rater": 60}           # 10 spare facilitator-days
    plan = plan_capacity(roster({2026: days}), demand=DEMAND, certification_rate=1.0, certified_before=0,
                         targets={})
    gap = shortfall(plan, target=180, by_year=2026)
    assert gap["extra_cohorts"] == 1 and gap["extra_days"]["tp2_facilitator"] == 10


def test_an_unknown_role_in_the_roster_is_refused():
    with pytest.raises(DatasetError, match=r"roster roles \['interpreter'\]"):
        plan_capacity(roster({2026: {"interpreter": 10}}), demand=DEMAND, certification_rate=0.5,
                      certified_before=0, targets={})


def test_certification_rate_with_its_wilson_interval():
    enrol = pd.DataFrame({"stage": ["enrolled"] * 10})
    rate, low, high, n = certification_rate(enrol)
    # Wilson with x = 0: the upper bound is z^2 / (n + z^2)
    z2 = 1.959963984540054 ** 2
    assert (rate, low, n) == (0.0, 0.0, 10) and high == pytest.approx(z2 / (10 + z2))
    enrol = pd.DataFrame({"stage": ["enrolled"] * 60 + ["certified"] * 52})
    rate, low, high, _ = certification_rate(enrol)
    p, n = 52 / 60, 60
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = math.sqrt(z2) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    assert rate == pytest.approx(p) and (low, high) == pytest.approx((centre - half, centre + half))
    assert low < p < high
