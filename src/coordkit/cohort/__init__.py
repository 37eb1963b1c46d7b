"""The cohort: its tables and their schemas, and everything the evaluation does with them.

It owns the schema of every table the evaluation reads and its validation (`tables`), loading a
cohort folder (`load`), the aggregations the evaluator notebooks show (`outcomes`), the ranked list
of what to revise (`revision`), the evaluation statistics (`evaluation`: item analysis, rater
agreement, pre/post change, small-cell suppression), the synthetic cohort (`simulate`), the cohort
report (`report`), its plots (`plotting`), lecturer capacity (`capacity`) and the hash registry of
the bundled sample data (`datahash`). It may import the top-level modules (errors, config), the
content packages (vocabularies, syllabus, item banks, facts, rubrics, themes) and the certification
rule (pass marks, gates); `report` may read marks through `coordkit.marking`. It never imports the
command line, and nothing here runs trainee code.

This `__init__` re-exports the public API the old module ``coordkit.cohort`` had, so evaluator
notebooks keep writing ``from coordkit.cohort import load_cohort, read_table``. It imports no
pandas at import time; `evaluation`, `simulate`, `report` and `plotting` load on first use.
"""

from ..vocab import (COMPETENCIES, FAILURE, GATES, ORG_TYPE_LABELS, ORG_TYPES, STAGE_LABELS, STAGES,
                     SUCCESS, TOPICS)
from .load import Cohort, load_cohort, wide_scores
from .outcomes import (EXPERIENCE_BANDS, PERIOD_LABELS, PERIODS, SUBGROUPS, assignment_marks,
                       assignment_percent, consultation_outcomes, consultation_periods, coordinator_change,
                       final_manual_marks, followup_summary, followup_vs_records, funnel, gate_check, headline,
                       item_order, pre_post, rater_pairs, rater_severity, reaction_summary, subgroup_table,
                       trainee_milestones, with_subgroups)
from .revision import (ITEM_ACTIONS, RevisionRules, analyse_items, item_catalogue, module_labels,
                       revision_candidates, rubric_levels)
from .tables import (COMPETENCY_USE, KINDS, OUTCOMES, REQUIRED_TABLES, ROLES, SCHEMAS, TABLES, Column, Table,
                     data_dictionary, read_table, table_markdown)

__all__ = [
    # vocabularies (coordkit.vocab's), re-exported as the old module did
    "COMPETENCIES", "FAILURE", "GATES", "ORG_TYPE_LABELS", "ORG_TYPES", "STAGE_LABELS", "STAGES", "SUCCESS",
    "TOPICS",
    # tables
    "KINDS", "OUTCOMES", "ROLES", "COMPETENCY_USE", "Column", "Table", "TABLES", "SCHEMAS", "REQUIRED_TABLES",
    "read_table", "data_dictionary", "table_markdown",
    # load
    "Cohort", "load_cohort", "wide_scores",
    # outcomes
    "headline", "funnel", "final_manual_marks", "item_order", "assignment_marks", "assignment_percent",
    "gate_check", "pre_post", "reaction_summary", "rater_pairs", "rater_severity", "PERIODS", "PERIOD_LABELS",
    "trainee_milestones", "consultation_periods", "consultation_outcomes", "coordinator_change",
    "followup_vs_records", "followup_summary", "EXPERIENCE_BANDS", "SUBGROUPS", "with_subgroups",
    "subgroup_table",
    # revision
    "RevisionRules", "ITEM_ACTIONS", "revision_candidates", "module_labels", "item_catalogue", "rubric_levels",
    "analyse_items",
]
