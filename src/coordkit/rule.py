"""The certification rule: gates, pass marks, validity, renewal window. The one owner of these numbers.

Every pass mark the toolkit uses (certification, the simulated cohort's gate decisions, the evaluation
report's headline and gate check) comes from here. ISA has not published the pass marks (curriculum
Appendix A gives a 60-70 % placeholder), so each default below is a project ASSUMPTION and is labelled
as one wherever it is shown. A checkout overrides any of them in pyproject.toml:

    [tool.coordkit.certification]
    completion_test_pass_percent = 70

The validity period comes from datasets/facts.yml (VALIDITY_FACT) unless overridden the same way.
This module imports nothing heavy, so that coordkit.config can check the table's keys when it loads.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

from .errors import ConfigError

DEFAULT_PASS_PERCENT = 60.0     # ASSUMPTION: curriculum Appendix A placeholder (60-70 %); not published by ISA

VALIDITY_FACT = "program.certificate_validity_years"


@dataclass(frozen=True, kw_only=True)
class CertificationRule:
    """The certification and renewal rule, configured once. Pass marks are percentages of an
    assignment's maximum score; a trainee passes at or above the mark."""

    validity_years: int                            # from datasets/facts.yml, VALIDITY_FACT
    tp1_check: str = "tp1_check"
    tp1_check_pass_percent: float = DEFAULT_PASS_PERCENT
    practice_report: str = "practice_report"
    practice_report_pass_percent: float = DEFAULT_PASS_PERCENT     # ASSUMPTION: "accepted" = fully graded, at or above this
    tp2_attendance_percent: float = 100.0          # ASSUMPTION: every Training Program 2 session attended
    completion_test: str = "completion_test"
    completion_test_pass_percent: float = DEFAULT_PASS_PERCENT     # ASSUMPTION (Appendix A placeholder 60-70 %)
    renewal_refresher: str = "renewal_refresher"
    renewal_refresher_pass_percent: float = DEFAULT_PASS_PERCENT   # ASSUMPTION
    case_meeting: str = "case_meeting"
    case_meeting_pass_percent: float = DEFAULT_PASS_PERCENT        # ASSUMPTION
    renewal_opens_days: int = 365                  # ASSUMPTION: renewal possible this many days before expiry

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name.endswith("_percent"):
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
                    raise ConfigError(f"certification rule: {f.name} = {value!r} must be a number from 0 to 100")
            elif f.name in ("validity_years", "renewal_opens_days"):
                if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                    raise ConfigError(f"certification rule: {f.name} = {value!r} must be a positive whole number")
            elif not isinstance(value, str) or not value:
                raise ConfigError(f"certification rule: {f.name} = {value!r} must be an assignment id")

    def is_default(self, name: str) -> bool:
        """True when `name` still has its default value, i.e. is a project assumption."""
        f = next(f for f in dataclasses.fields(self) if f.name == name)
        return f.default is not dataclasses.MISSING and getattr(self, name) == f.default

    def mark_label(self, name: str) -> str:
        unit = "%" if name.endswith("_percent") else " days"
        return f"{getattr(self, name):g}{unit}" + (" (assumed default)" if self.is_default(name) else "")

    def assumptions(self) -> list[str]:
        """The defaults still in force, for printing next to results."""
        return [f"{f.name} = {getattr(self, f.name)!r}" for f in dataclasses.fields(self)
                if f.name.endswith(("_percent", "_days")) and self.is_default(f.name)]


def default_rule(*, facts, overrides: Mapping[str, Any] | None = None) -> CertificationRule:
    """The rule with its validity from the facts registry and `overrides` (e.g. a
    [tool.coordkit.certification] table) applied; an unknown key is an error naming the known ones."""
    known = {f.name for f in dataclasses.fields(CertificationRule)}
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigError(f"certification rule: unknown key(s) {unknown}; known keys are {sorted(known)}")
    values = {"validity_years": facts.value(VALIDITY_FACT), **overrides}
    return CertificationRule(**values)


def rule_for(settings, *, facts) -> CertificationRule:
    """The rule of this checkout: the defaults above, overridden by [tool.coordkit.certification] in
    pyproject.toml (Settings.certification), e.g. completion_test_pass_percent = 70."""
    return default_rule(facts=facts, overrides=settings.certification)


RULE_KEYS = tuple(f.name for f in dataclasses.fields(CertificationRule))
GATE_FIELDS = {"tp1_check": "tp1_check_pass_percent", "practice_report": "practice_report_pass_percent",
               "completion_test": "completion_test_pass_percent"}


def check_overrides(overrides: Mapping[str, Any], *, where: str) -> None:
    """ConfigError naming `where` when a [tool.coordkit.certification] table has an unknown key or a
    value the rule refuses (checked when the settings load, not when a certificate is due)."""
    if not isinstance(overrides, Mapping):
        raise ConfigError(f"{where}: certification must be a table ([tool.coordkit.certification]), "
                          f"not {overrides!r}")
    unknown = sorted(set(overrides) - set(RULE_KEYS))
    if unknown:
        raise ConfigError(f"{where} [tool.coordkit.certification]: unknown key(s) {unknown}; "
                          f"known keys are {sorted(RULE_KEYS)}")
    try:
        CertificationRule(**{"validity_years": 1, **overrides})
    except ConfigError as exc:
        raise ConfigError(f"{where} [tool.coordkit.certification]: {exc}") from exc


def gate_pass_marks(pass_mark: float | Mapping[str, Any] | None = None) -> dict[str, float]:
    """The pass mark (%) of each gate assignment (tp1_check, practice_report, completion_test): the rule's
    defaults; `pass_mark` a number: that mark for every gate; a mapping: [tool.coordkit.certification]
    overrides (Settings.certification) applied to the defaults."""
    if isinstance(pass_mark, (int, float)) and not isinstance(pass_mark, bool):
        return {gate: float(pass_mark) for gate in GATE_FIELDS}
    defaults = {f.name: f.default for f in dataclasses.fields(CertificationRule)}
    overrides = dict(pass_mark or {})
    return {gate: float(overrides.get(name, defaults[name])) for gate, name in GATE_FIELDS.items()}
