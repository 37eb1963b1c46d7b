"""Marking written answers: allocation among lecturers, blind double marking, moderation, offline
workbooks, and the marking app.

Owns: the marking tables that live beside nbgrader's in the gradebook database (`coordkit_allocation`,
`coordkit_mark`: every mark ever given, append-only), the rule that turns marks into the one final mark
of an answer, and writing that mark into nbgrader's own Grade and Comment rows, so Formgrader,
`nbgrader export`, feedback and `coordkit export` all show it.
May import: coordkit's settings, errors, banks and rubrics, nbgrader's gradebook API, SQLAlchemy;
never the grading engine (marks are data entered by people; nothing here runs a trainee's code)."""

from .core import (Answer, Mark, MarkingError, allocate, answer_status, answers, final_mark, marks_frame,
                   moderation_queue, moderate, queue, save_mark)

__all__ = ["Answer", "Mark", "MarkingError", "allocate", "answer_status", "answers", "final_mark", "marks_frame",
           "moderation_queue", "moderate", "queue", "save_mark"]
