"""Marking written answers: allocation among lecturers, blind double marking, moderation, offline
workbooks, and the marking app.

Owns: the marking tables that live beside nbgrader's in the gradebook database (`coordkit_allocation`,
`coordkit_mark`: every mark ever given, append-only), the rule that turns marks into the one final mark
of an answer, and writing that mark into nbgrader's own Grade and Comment rows, so Formgrader,
`nbgrader export`, feedback and `coordkit export` all show it. Inside, the arrows run one way:
store (tables, engine, MarkingError) <- written (the answers and their text) <- publish (nbgrader's
rows) <- marks (the final-mark rule, saving, moderation) <- allocation (allocate, queues) <- workbook,
simulate, app; `core` only re-exports the names of the module marking was before it was split.
May import: coordkit's errors and config, content (item banks, facts, rubrics), the course id from
course, nbgrader's gradebook API and CourseDirectory, SQLAlchemy; never the grading engine (marks are
data entered by people; nothing here runs a trainee's code), cohort, certification, book or cli."""

from .allocation import Allocation, QueueEntry, allocate, moderation_queue, queue
from .marks import (Mark, Saved, answer_status, final_mark, history, mark_entry, marks_frame, moderate, record_many,
                    save_mark, validate_levels)
from .publish import feedback_text
from .store import MarkingError
from .written import Answer, answer_text, answers, find_answer, find_answers, manual_items, rubric_cell

__all__ = ["Allocation", "Answer", "Mark", "MarkingError", "QueueEntry", "Saved", "allocate", "answer_status",
           "answer_text", "answers", "feedback_text", "final_mark", "find_answer", "find_answers", "history",
           "manual_items", "mark_entry", "marks_frame", "moderate", "moderation_queue", "queue", "record_many",
           "rubric_cell", "save_mark", "validate_levels"]
