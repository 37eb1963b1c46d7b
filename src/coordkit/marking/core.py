"""The old `coordkit.marking.core`, kept as one import path for code written before marking was split
(cli_mark, demo, feedback_page, released evaluator notebooks): every name it had, re-exported from
where it lives now. New code imports from `coordkit.marking` or from the module that owns the name:
store (tables, engine), written (answers and their text), allocation (allocate, queues), marks (the
final-mark rule, saving, moderation, history) and publish (nbgrader's Grade and Comment rows)."""

from .allocation import Allocation, QueueEntry, allocate, moderation_queue, queue
from .marks import (Mark, Saved, _marks, _marks_of, _record, _slots, _slots_of, answer_status, final_mark, history,
                    mark_entry, marks_frame, moderate, record_many, save_mark, validate_levels)
from .publish import _publish, feedback_text
from .store import (MARGIN, ROLES, MarkingError, _course, _engine, _meta, _now, allocation_table, engine, margin,
                    mark_table)
from .written import (Answer, _bank, _cells, _coursedir, _load_bank, _notebook_path, _stamp, answer_id, answer_text,
                      answers, find_answer, find_answers, manual_items, rubric_cell, sha)

__all__ = ["MARGIN", "ROLES", "Allocation", "Answer", "Mark", "MarkingError", "QueueEntry", "Saved", "_bank",
           "_cells", "_course", "_coursedir", "_engine", "_load_bank", "_marks", "_marks_of", "_meta", "_notebook_path",
           "_now", "_publish", "_record", "_slots", "_slots_of", "_stamp", "allocate", "allocation_table",
           "answer_id", "answer_status", "answer_text", "answers", "engine", "feedback_text", "final_mark",
           "find_answer", "find_answers", "history", "manual_items", "margin", "mark_entry", "mark_table",
           "marks_frame", "moderate", "moderation_queue", "queue", "record_many", "rubric_cell", "save_mark", "sha",
           "validate_levels"]
