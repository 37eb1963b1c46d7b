"""Errors a user can cause. The CLI prints each as one line and exits with 1."""

from __future__ import annotations


class CoordkitError(Exception):
    """Base class: the message names what is wrong and the next step."""


class ConfigError(CoordkitError):
    """pyproject.toml [tool.coordkit] is missing or wrong."""


class FactsError(CoordkitError):
    """datasets/facts.yml is missing, malformed or refers to an unknown fact."""


class AssignmentError(CoordkitError):
    """Unknown assignment id, or a malformed item bank."""


class DatasetError(CoordkitError):
    """A table the evaluation reads is missing or invalid (file, row and column are named)."""


class OutputError(CoordkitError):
    """An output folder cannot be written."""


class ToolError(CoordkitError):
    """An external tool (nbgrader, jupyter-book, a notebook) failed; the log file is named."""
