# nbgrader behaviour for the coordkit course (the one owner of nbgrader settings).
# The gradebook URL comes from pyproject.toml [tool.coordkit] db_url: coordkit passes it on the
# command line; when nbgrader is run by hand from this folder, the default below is used.
import os

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = "coordkit"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.db_url = os.environ.get(
    "COORDKIT_DB_URL", "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db"))

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

from coordkit.nbgrader_plugins import FeedbackRedaction  # noqa: E402

c.GenerateFeedback.preprocessors = [GetGrades, FeedbackRedaction, CSSHTMLHeaderPreprocessor]

# Late submissions: due dates come from the course calendar (graders/calendar.yml, written into the
# gradebook by `coordkit release`); the penalty rule from the same file, applied by nbgrader's autograde
# through coordkit's late-penalty plug-in.
from coordkit.course_calendar import configure_late_penalty  # noqa: E402

configure_late_penalty(c, os.environ.get("COORDKIT_CALENDAR") or os.path.join(
    c.CourseDirectory.root, os.pardir, "graders", "calendar.yml"))
