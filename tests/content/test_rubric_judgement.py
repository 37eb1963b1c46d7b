"""Issue #14.5: the rubrics of the written tasks score judgement (risk, consent, the client's wishes and
strengths, the handover and its follow-up), not how many items an answer lists. A level that only
counts ("one of the two", "both", "all present") tells a marker nothing about the quality of the
judgement, so none may remain in the cells rewritten for it."""

from __future__ import annotations

import re

import pytest

from coordkit.content.rubrics import load_rubric

REWRITTEN = {
    "cs02_dv_child": ["q9_support_plan"],
    "cs05_leaving_japan": ["q8_support_plan"],
    "cs06_school_enrolment": ["q8_support_plan"],
    "cs07_disaster_evacuation": ["q8_support_plan"],
    "case_meeting": ["q4_issue_map", "q5_questions", "q6_network_gap"],
    "practice_report": ["q1_assignment", "q2_case_record", "q3_collaboration", "q4_preventive", "q5_reflection"],
}
COUNTING_JA = re.compile(r"^(どちらか一方(が|だけ)?(ある|を伝えている)?|両方(ある|を.*伝えている)?|どれもない|一部がある|すべてある|どちらもない)。?$")
COUNTING_EN = re.compile(r"^(One of the two|Both|Neither|None|Some|All|All present|Only one of the two)\.?$", re.I)
JUDGEMENT = ("本人", "同意", "危険", "安全", "判断", "見立て", "確か", "希望", "力", "理由")


@pytest.mark.parametrize("rubric_id", sorted(REWRITTEN))
def test_rewritten_cells_describe_judgement_not_counts(settings, rubric_id):
    rubric = load_rubric(settings.rubrics_dir / f"{rubric_id}.yml")
    for cell_id in REWRITTEN[rubric_id]:
        for criterion in rubric.cell(cell_id).criteria:
            where = f"{rubric_id} {cell_id} {criterion.id}"
            assert any(w in criterion.ja for w in JUDGEMENT), f"{where}: the criterion names no judgement"
            for level in criterion.levels:
                assert not COUNTING_JA.match(level.ja.strip()), f"{where} level {level.points}: {level.ja}"
                assert not COUNTING_EN.match(level.en.strip()), f"{where} level {level.points}: {level.en}"
            top = criterion.levels[-1]
            assert len(top.ja) >= 30 and len(top.en) >= 40, f"{where}: the top level does not describe quality"
