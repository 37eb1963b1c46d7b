# nbgrader behaviour for the coordkit courses (the one owner of nbgrader settings). Each cohort's
# course folder has a short nbgrader_config.py of its own (written by `coordkit course create`) that
# loads this file and sets only its course id, folder and exchange.
# The gradebook URL has one owner: `db_url` in pyproject.toml [tool.coordkit]. nbgrader run by hand,
# Formgrader and coordkit all read it (coordkit passes the same URL in COORDKIT_DB_URL).
import os

from coordkit.config import nbgrader_db_url  # noqa: E402

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = "coordkit"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
if not os.environ.get("COORDKIT_COURSE_CONFIG"):      # loaded by a cohort's config: it sets its own
    c.CourseDirectory.db_url = nbgrader_db_url(c.CourseDirectory.root, c.CourseDirectory.course_id)

# `nbgrader collect` (and Formgrader's collect button) leave each collected submission read-only to
# the lecturers and closed to trainees (stock collect keeps the 0777 folder `nbgrader submit` made).
c.ExchangeFactory.collect = "coordkit.exchange.LockedCollect"

# Trainees are not programmers: the released answer cell keeps its `q1_... = ""` line and no
# `raise NotImplementedError()`; an empty answer fails the format check with a plain message.
c.ClearSolutions.code_stub = {"python": ""}
c.ClearSolutions.text_stub = "ここに回答を書いてください。 / Write your answer here."

# Each test cell runs in a fresh kernel per notebook; a runaway answer is stopped after 30 s.
c.ExecutePreprocessor.timeout = 30
c.Execute.timeout = 30

# Stock nbgrader scores a test cell 0 when it writes anything to stderr, so a library warning can
# zero a correct answer. In this course a test fails only by raising (a wrong answer fails its
# assertion; a malformed one raises AnswerFormatError): stderr output is dropped before scoring.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"[\s\S]"

# Feedback never shows hidden tests, solutions or the expected answer in a traceback
# (stock nbgrader leaks hidden tests into feedback: jupyter/nbgrader#917, #1363); after each
# written answer it shows the rubric it was graded with (from the source notebook, without the
# model answer).
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import GetGrades  # noqa: E402

from coordkit import feedback_page  # noqa: E402
from coordkit.nbgrader_plugins import FeedbackRedaction  # noqa: E402

# The page is coordkit's feedback template (src/coordkit/templates/coordkit_feedback, extending
# nbgrader's): Japanese first with English marked lang="en", each answer labelled with its question,
# a written answer's mark per rubric criterion or "採点待ち / awaiting marking", no script, WCAG AA.
# This is the one place it is set: `coordkit grade`, marking and plain `nbgrader generate_feedback`.
c.GenerateFeedback.preprocessors = [GetGrades, FeedbackRedaction, feedback_page.FeedbackLabels,
                                    CSSHTMLHeaderPreprocessor]
feedback_page.configure(c)

# Nothing a trainee wrote reaches the lecturer's browser as active content (Formgrader, feedback):
# after nbgrader restores the locked cells, SanitizeSubmission drops outputs, attachments, raw cells,
# foreign metadata and HTML in the trainee's markdown; after scoring (when nbgrader runs the
# notebook by hand: `coordkit grade` does not run it at all), SanitizeOutputs keeps of the outputs
# only what a test cell's score needs, before the notebook is written. See coordkit/nbgrader_plugins.py.
from nbconvert.preprocessors import ClearMetadataPreprocessor  # noqa: E402
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearOutput,  # noqa: E402
                                    DeduplicateIds, Execute, IgnorePattern, LimitOutput, OverwriteCells,
                                    OverwriteKernelspec, SaveAutoGrades)

from coordkit.nbgrader_plugins import SanitizeOutputs, SanitizeSubmission  # noqa: E402

c.Autograde.sanitize_preprocessors = [ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells,
                                      SanitizeSubmission, CheckCellMetadata]
c.Autograde.autograde_preprocessors = [Execute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
                                       SaveAutoGrades, AssignLatePenalties, SanitizeOutputs, CheckCellMetadata]
# Late submissions: due dates come from the course calendar (graders/calendar.yml, written into the
# gradebook by `coordkit release`); the penalty rule from the same file, applied by nbgrader's autograde
# through coordkit's late-penalty plug-in.
from coordkit.course_calendar import configure_late_penalty  # noqa: E402

configure_late_penalty(c, os.environ.get("COORDKIT_CALENDAR") or os.path.join(
    c.CourseDirectory.root, os.pardir, "graders", "calendar.yml"))
