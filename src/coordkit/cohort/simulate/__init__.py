"""The synthetic cohort: trainees, their submissions to every released assignment, and every table
the evaluation reads (see the data dictionary). Everything here is fictional and generated from a seed.

The package owns the model and its assumptions (`model`: the trainees, their latent ability, answers
under a simple item-response model), the tables generated from it (`generate`) and writing a cohort
into a course and a cohort folder (`write`). It may import the top-level modules (errors, config),
the content modules (item banks, vocabularies, syllabus, themes), the certification rule (pass marks)
and `coordkit.cohort.outcomes`; never the command line. The old path ``coordkit.simulate`` is this
package, and it re-exports the public names the old module had.
"""

from .generate import SubmitFn, generate_cohort, model_marks, module_effects, rubric_marks, trainee_frame
from .model import (BASE_DAYS, CONSULTATION_LANGUAGES, CONSULTATIONS_PER_TRAINEE, DOUBLE_MARK_MIN, DOUBLE_MARK_SHARE,
                    FIRST_LANGUAGES, FOLLOWUP_AFTER_DAYS, FOLLOWUP_COMMENTS, MANUAL_ANSWERS, MODEL_TEST,
                    ORG_TYPE_WEIGHTS, PARTNERS, PASS_MARK, PREFECTURE_WEIGHTS, REACTION_COMMENTS,
                    RECORDS_BEFORE_DAYS, REFER_BIAS, RENEWAL_BANKS, ROSTER_YEARS, TIMELINE, TOPIC_WEIGHTS, Trainee,
                    answer_marks, fill_submission, make_trainees, p_correct, simulated_answer)
from .write import MARKER, TABLE_FILES, SimulationResult, simulate_cohort, survey_modules, write_tables

__all__ = [
    # the model
    "PASS_MARK", "PREFECTURE_WEIGHTS", "ORG_TYPE_WEIGHTS", "FIRST_LANGUAGES", "TOPIC_WEIGHTS",
    "CONSULTATION_LANGUAGES", "PARTNERS", "BASE_DAYS", "REFER_BIAS", "TIMELINE", "FOLLOWUP_AFTER_DAYS",
    "RECORDS_BEFORE_DAYS", "CONSULTATIONS_PER_TRAINEE", "DOUBLE_MARK_SHARE", "DOUBLE_MARK_MIN", "ROSTER_YEARS",
    "RENEWAL_BANKS", "MODEL_TEST", "REACTION_COMMENTS", "FOLLOWUP_COMMENTS", "MANUAL_ANSWERS", "Trainee",
    "make_trainees", "p_correct", "simulated_answer", "fill_submission", "answer_marks",
    # the tables
    "trainee_frame", "module_effects", "model_marks", "rubric_marks", "SubmitFn", "generate_cohort",
    # writing
    "SimulationResult", "TABLE_FILES", "write_tables", "survey_modules", "MARKER", "simulate_cohort",
]
