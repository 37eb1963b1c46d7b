"""Certification: who is certified and who may renew, and the record of it. It applies the
certification rule (coordkit.rule, a top-level module because config checks its keys when settings
load and the cohort evaluation reads its pass marks: gates, pass marks, validity; the one place they
are set, overridable under [tool.coordkit.certification]; re-exported here) through the decisions (decide: every gate for a
trainee or a certificate), the records a decision reads besides the gradebook (records: attendance,
personal details), certifying a cohort and renewing (certify), the register of certified
coordinators (register, with codes: dates and verification codes; schema: what it stores and the
hash chain; publish: the public export; migrations: its alembic schema history) and the certificate
PDF (certificate). It may import coordkit.errors and coordkit.config, the content package (facts,
item banks, vocabularies), the course package (scores from the gradebook, the CSV formula escaping
of exports) and the cohort tables' reader; nothing here imports the command line, and rule.py
imports nothing but coordkit.errors so that config can check the rule's keys when it loads.

The old module paths coordkit.certification (this package), coordkit.register,
coordkit.certificate and coordkit.migrations keep importing (see coordkit._legacy)."""

from .certificate import certificate_filename, render_certificate, write_certificate
from .certify import (CertifyResult, RefresherCoverage, RenewResult, check_scores, certify_cohort,
                      refresher_coverage, renew_certificates, validity_notes)
from .decide import Decision, GateResult, decide, decide_all, decide_renewal, renewal_opens_on
from .records import SCHEMAS, SYNTHETIC_MARKER, SYNTHETIC_TP2_SESSIONS, Records, load_records, synthesize_records
from .register import (Certificate, Register, RegisterError, Verification, amend_certificate, certificate_history,
                       check_register, default_register_url, expiry_date, export_register, open_register,
                       renewals_due, split_fields, upgrade_register, verify_code)
from ..rule import DEFAULT_PASS_PERCENT, VALIDITY_FACT, CertificationRule, default_rule, gate_pass_marks, rule_for

__all__ = [
    # the rule
    "DEFAULT_PASS_PERCENT", "VALIDITY_FACT", "CertificationRule", "default_rule", "gate_pass_marks", "rule_for",
    # decisions and the records they read
    "Decision", "GateResult", "decide", "decide_all", "decide_renewal", "renewal_opens_on",
    "SCHEMAS", "SYNTHETIC_MARKER", "SYNTHETIC_TP2_SESSIONS", "Records", "load_records", "synthesize_records",
    # certifying and renewing
    "CertifyResult", "RefresherCoverage", "RenewResult", "check_scores", "certify_cohort", "refresher_coverage",
    "renew_certificates", "validity_notes",
    # the register and the certificate
    "Certificate", "Register", "RegisterError", "Verification", "amend_certificate", "certificate_history",
    "check_register", "default_register_url", "expiry_date", "export_register", "open_register", "renewals_due",
    "split_fields", "upgrade_register", "verify_code",
    "certificate_filename", "render_certificate", "write_certificate",
]
