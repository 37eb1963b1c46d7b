"""The course content as data: the procedural facts registry and its counting rules (facts), the
official syllabus units (syllabus), the bilingual glossary, the shared vocabularies (vocab: life
domains, competencies, stages, prefectures, organisation types), the easy-Japanese checker (easyja),
the reaction-survey codebook (themes), marking rubrics, and the item banks with the nbgrader source
notebooks generated from them (banks, notebooks). Everything here reads YAML from datasets/ and
graders/ and returns frozen dataclasses; nothing here builds a book, talks to nbgrader's gradebook or
starts a kernel.

May import: the standard library, PyYAML, nbformat, janome, and from coordkit only `errors`, `config`
and `checks` (the kernel-side answer reader whose kinds and examples the banks share). Every other
subpackage may import this one; this one imports none of them (and never `coordkit.cli`)."""

from .banks import (ASSIGNMENT_KINDS, AUTO_KINDS, CYCLES, Bank, Item, bank_paths, compute_answer, display_key,
                    load_bank, load_banks, render_text)
from .easyja import EasyJapaneseError, Finding, annotate, check, check_file, check_sentence, count_by_rule, plain
from .facts import (Fact, FactRegistry, ReviewItem, deadline, due_date, is_closed_day, last_day, load_facts,
                    next_open_day, parse_age, period_end, read_yaml, review_due, review_facts, used_fact_ids)
from .glossary import Glossary, GlossaryEntry, GlossaryError, load_glossary, used_terms
from .notebooks import (ANSWERS_CHECK, answers_check_source, build_notebook, example, hidden_test, how_to_answer,
                        write_source)
from .rubrics import (CellRubric, Criterion, Level, Rubric, check_rubric, extract_markdown, load_rubric, load_rubrics,
                      render_markdown)
from .syllabus import Coverage, Syllabus, SyllabusError, Unit, check_coverage, load_syllabus
from .themes import THEMES, Theme, code_comments, theme, theme_table, tone
from .vocab import (COMPETENCIES, DOMAIN_CHAPTERS, GATES, LIFE_DOMAINS, ORG_TYPE_LABELS, ORG_TYPES, PREFECTURES,
                    STAGE_LABELS, STAGES, TOPICS)

__all__ = [
    # banks and the source notebooks
    "ASSIGNMENT_KINDS", "AUTO_KINDS", "CYCLES", "Bank", "Item", "bank_paths", "compute_answer", "display_key",
    "load_bank", "load_banks", "render_text",
    "ANSWERS_CHECK", "answers_check_source", "build_notebook", "example", "hidden_test", "how_to_answer",
    "write_source",
    # easy Japanese
    "EasyJapaneseError", "Finding", "annotate", "check", "check_file", "check_sentence", "count_by_rule", "plain",
    # facts
    "Fact", "FactRegistry", "ReviewItem", "deadline", "due_date", "is_closed_day", "last_day", "load_facts",
    "next_open_day", "parse_age", "period_end", "read_yaml", "review_due", "review_facts", "used_fact_ids",
    # glossary
    "Glossary", "GlossaryEntry", "GlossaryError", "load_glossary", "used_terms",
    # rubrics
    "CellRubric", "Criterion", "Level", "Rubric", "check_rubric", "extract_markdown", "load_rubric", "load_rubrics",
    "render_markdown",
    # syllabus
    "Coverage", "Syllabus", "SyllabusError", "Unit", "check_coverage", "load_syllabus",
    # survey themes
    "THEMES", "Theme", "code_comments", "theme", "theme_table", "tone",
    # vocabularies (each defined once, in vocab)
    "COMPETENCIES", "DOMAIN_CHAPTERS", "GATES", "LIFE_DOMAINS", "ORG_TYPE_LABELS", "ORG_TYPES", "PREFECTURES",
    "STAGE_LABELS", "STAGES", "TOPICS",
]
