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
c.ExchangeFactory.collect = "coordkit.course.exchange.LockedCollect"

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

from coordkit.grading import feedback_page  # noqa: E402
from coordkit.grading.nbgrader_plugins import FeedbackRedaction  # noqa: E402

# The page is coordkit's feedback template (src/coordkit/grading/templates/coordkit_feedback, extending
# nbgrader's): Japanese first with English marked lang="en", each answer labelled with its question,
# a written answer's mark per rubric criterion or "採点待ち / awaiting marking", no script, WCAG AA.
# This is the one place it is set: `coordkit grade`, marking and plain `nbgrader generate_feedback`.
c.GenerateFeedback.preprocessors = [GetGrades, FeedbackRedaction, feedback_page.FeedbackLabels,
                                    CSSHTMLHeaderPreprocessor]
feedback_page.configure(c)

# Nothing a trainee wrote reaches the lecturer's browser as active content (Formgrader, feedback):
# after nbgrader restores the locked cells, SanitizeSubmission drops outputs, attachments, raw cells,
# foreign metadata and HTML in the trainee's markdown. See coordkit/grading/nbgrader_plugins.py.
# No trainee code runs on any path (`coordkit grade`, plain `nbgrader autograde`, Formgrader's
# autograde button): LiteralExecute replaces nbgrader's Execute; it reads each answer as a literal
# and runs the course's tests (from the gradebook) in a separate process against those values, so
# every path gives the same per-cell scores. (`coordkit grade --engine kernel` swaps it back for a
# kernel confined by coordkit.grading.sandbox, followed by SanitizeOutputs.)
from nbconvert.preprocessors import ClearMetadataPreprocessor  # noqa: E402
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearOutput,  # noqa: E402
                                    DeduplicateIds, IgnorePattern, LimitOutput, OverwriteCells,
                                    OverwriteKernelspec, SaveAutoGrades)

from coordkit.grading.nbgrader_plugins import LiteralExecute, SanitizeSubmission  # noqa: E402

c.Autograde.sanitize_preprocessors = [ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells,
                                      SanitizeSubmission, CheckCellMetadata]
c.Autograde.autograde_preprocessors = [LiteralExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
                                       SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
# Late submissions: due dates come from the course calendar (graders/calendar.yml, written into the
# gradebook by `coordkit release`); the penalty rule from the same file, applied by nbgrader's autograde
# through coordkit's late-penalty plug-in.
from coordkit.course.calendar import configure_late_penalty  # noqa: E402

configure_late_penalty(c, os.environ.get("COORDKIT_CALENDAR") or os.path.join(
    c.CourseDirectory.root, os.pardir, "graders", "calendar.yml"))

# Validate (`nbgrader validate`, and the Validate button, which runs the same Validator): what nbgrader
# says around the cells it lists, in Japanese then English, with what to do. A test cell fails on a
# malformed answer (coordkit.checks.answer raises under NBGRADER_EXECUTION) and its error is the
# bilingual format message naming the question, with an example of that question's own, never the key.
# The frame lines nbgrader prints per cell ("The following cell failed:") and the JupyterLab dialog's
# texts are nbgrader's own and not configurable.
c.Validator.failed_warning = (
    "提出の前に直すところが {num_failed} か所あります。下に出るセルごとに直し、もう一度 Validate を押してください。"
    "【問いの名前】と「例」が出ているものは、答えの書き方が違います。その問いの答えのセルを例のとおりに直してください。"
    "「ここに回答を書いてください」のセル（You did not provide a response と出ます）は、文章の答えがまだ書かれていません。"
    "セルをダブルクリックして答えを書いてください。このまま提出すると、その問いは 0 点になります。 / "
    "{num_failed} cell(s) below need fixing before you submit; fix each one, then press Validate again. "
    "Where a [question name] and an example are shown, the answer is not written in a form the grader can read: "
    "correct that question's answer cell as the example shows. A cell saying \"Write your answer here\" "
    "(\"You did not provide a response\") is a written answer not given yet: double-click it and write your "
    "answer. If you submit as it is, those questions score 0.\n")
c.Validator.changed_warning = (
    "変更してはいけないセルが {num_changed} 個変更されています。そのセルは採点では元に戻されます。"
    "Assignments タブで課題を取り直す（元のノートブックを別名で保存してから Fetch）か、講師に相談してください。 / "
    "{num_changed} locked cell(s) have been changed; grading restores the originals. Fetch the assignment again "
    "(after saving your notebook under another name) or ask your lecturer.\n")
c.Validator.type_changed_warning = (
    "{num_changed} 個のセルの種類（コード／マークダウン）が変わっています。下のセルを選び、ツールバーの種類を元に"
    "戻してください（答えのセルは Code、文章の答えは Markdown）。そのままでは採点できません。 / "
    "The type (Code or Markdown) of {num_changed} cell(s) has changed. Select each cell shown below and set its "
    "type back in the toolbar (answer cells: Code; written answers: Markdown); otherwise it cannot be graded.\n")
