import json

import numpy as np
import pytest

from coordkit.banks import load_bank
from coordkit.errors import CoordkitError
from coordkit.simulate import fill_submission, make_trainees, p_correct


def test_same_seed_same_cohort_other_seed_other_cohort():
    assert make_trainees(20, seed=1) == make_trainees(20, seed=1)
    assert make_trainees(20, seed=1) != make_trainees(20, seed=2)


def test_ids_are_pseudonymous_and_attributes_plausible():
    people = make_trainees(200, seed=2024)
    assert len({p.trainee_id for p in people}) == 200
    assert all(p.trainee_id.startswith("tr") for p in people)
    assert all(p.years_experience >= 1 for p in people)
    assert len({p.prefecture for p in people}) > 5 and len({p.org_type for p in people}) > 2


@pytest.mark.parametrize("n", [0, -3])
def test_cohort_size_must_be_positive(n):
    with pytest.raises(CoordkitError, match="at least 1 trainee"):
        make_trainees(n, seed=1)


def test_abler_trainees_answer_more_items_right(root, facts):
    bank = load_bank(root / "graders" / "items" / "cs01_job_loss.yml", facts)
    released = {"cells": [{"cell_type": "code", "source": f"{it.grade_id} = \"\"",
                           "metadata": {"nbgrader": {"solution": True, "grade_id": f"{it.grade_id}_answer"}}}
                          for it in bank.items if it.auto]}
    people = make_trainees(300, seed=7)

    def right(person, rng):
        nb = fill_submission(released, bank, person, rng)
        return sum(json.loads(c["source"].split(" = ", 1)[1]) == it.key
                   for c, it in zip(nb["cells"], [i for i in bank.items if i.auto]))

    rng = np.random.default_rng(0)
    strong = [p for p in people if p.theta > 0.8]
    weak = [p for p in people if p.theta < -0.8]
    assert np.mean([right(p, rng) for p in strong]) > np.mean([right(p, rng) for p in weak]) + 1


def test_p_correct_is_a_logistic_curve():
    assert p_correct(0, 0) == pytest.approx(0.5)
    assert p_correct(2, 0) > 0.95 and p_correct(-2, 0) < 0.05
