"""The certification commands of `coordkit`: certify, verify, renewals, renew and
register export|history|amend. Thin like the rest of the CLI: parse, call one library function,
print. Wired in by coordkit.cli.main.build_parser with `certify.register(sub)`.

Exit codes: 0 done (refusals are results, not errors); 1 a CoordkitError (one line on stderr);
`verify` also answers 2 for an expired certificate and 3 for an unknown code, for scripts.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

EXIT_EXPIRED, EXIT_UNKNOWN, EXIT_TAMPERED = 2, 3, 4


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write it as YYYY-MM-DD, e.g. 2025-03-28") from None


def _yes_no(text: str) -> bool:
    value = {"yes": True, "y": True, "true": True, "no": False, "n": False, "false": False}.get(text.lower())
    if value is None:
        raise argparse.ArgumentTypeError(f"{text!r}: write yes or no")
    return value


def _settings(args):
    from .common import _settings as settings_from_args

    return settings_from_args(args)


def _register_url(args, settings) -> str:
    from ..config import absolute_db_url
    from ..register import default_register_url

    if getattr(args, "register_url", None):
        return absolute_db_url(args.register_url, Path.cwd())   # a relative SQLite path is taken from here
    return default_register_url(settings)


def _indent(lines: list[str], first: str, width: int) -> list[str]:
    return [f"  {first:<{width}}  {lines[0]}"] + [f"  {'':<{width}}  {line}" for line in lines[1:]]


def cmd_certify(args) -> int:
    from ..certification import certify_cohort

    settings = _settings(args)
    result = certify_cohort(args.cohort, settings=settings, on=args.date, scores=args.scores,
                            register_url=_register_url(args, settings),
                            pdf_dir=Path(args.pdf_dir) if args.pdf_dir else None,
                            synthetic_records=args.synthetic_records, seed=args.seed, dry_run=args.dry_run)
    for path in result.records_written:
        print(f"wrote fictional records (仮名, synthetic): {path}")
    for warning in result.warnings:
        print(f"warning: {warning}")
    certified, refused = result.certified, result.refused
    mode = " (dry run: nothing registered)" if result.dry_run else ""
    print(f"Cohort {result.cohort} on {result.on}{mode}: {len(result.decisions)} trainees, {len(certified)} "
          f"certified ({len(result.registered)} newly registered, {len(result.already)} already in the register), "
          f"{len(refused)} refused.")
    if refused:
        print("Refused (every gate that failed):")
        for d in refused:
            print("\n".join(_indent([g.detail for g in d.refusals], d.trainee_id, 8)))
    if result.registered:
        print("Newly registered:")
        for c in result.registered:
            pdf = result.pdfs.get(c.certificate_id)
            print(f"  {c.certificate_id}  {c.trainee_id:<8}  {c.name_ja}  valid until {c.expires_on}  code {c.code}"
                  + (f"  {pdf}" if pdf else ""))
    for cert_id, fields in result.differences.items():
        print(f"note: people.csv differs from the register for {cert_id} in {', '.join(fields)}; the register keeps "
              f"its values (change them with `coordkit register amend {cert_id} ... --reason TEXT`)")
    assumptions = result.rule.assumptions()
    if assumptions:
        print("Assumptions (ISA has not published these; change them in the certification rule): "
              + ", ".join(assumptions))
    for note in result.notes:
        print(f"Note: {note}")
    if result.decisions_csv:
        print(f"Decisions: {result.decisions_csv}")
    if not result.dry_run:
        from ..register import display_url
        print(f"Register: {display_url(result.register_url)}")
    return 0


def cmd_verify(args) -> int:
    from ..register import verify_code

    settings = _settings(args)
    answer = verify_code(args.code, register_url=_register_url(args, settings), today=args.date)
    print(answer.describe())
    return {"valid": 0, "expired": EXIT_EXPIRED}.get(answer.status, EXIT_UNKNOWN)


def cmd_renewals(args) -> int:
    from ..facts import parse_age
    from ..register import renewals_due

    settings = _settings(args)
    due = renewals_due(register_url=_register_url(args, settings), within_days=parse_age(args.within),
                       today=args.date)
    if not due.certificates:
        print(f"No certificate expires between {due.today} and {due.today + dt.timedelta(days=due.within_days)}.")
        return 0
    print(f"{len(due.certificates)} certificate(s) expire within {due.within_days} days of {due.today}; "
          "renew before the expiry date:")
    for c in due.certificates:
        print(f"  {c.certificate_id}  expires {c.expires_on} (in {(c.expires_on - due.today).days} days)  "
              f"{c.name_ja}  {c.prefecture} {c.affiliation}")
    return 0


def cmd_renew(args) -> int:
    from ..certification import renew_certificates

    settings = _settings(args)
    result = renew_certificates(settings=settings, on=args.date, scores=args.scores,
                                register_url=_register_url(args, settings),
                                pdf_dir=Path(args.pdf_dir) if args.pdf_dir else None, dry_run=args.dry_run)
    waiting = [d for d in result.decisions if not d.certified]
    ready = [d for d in result.decisions if d.certified]
    mode = " (dry run: nothing renewed)" if result.dry_run else ""
    print(f"{result.on}{mode}: {len(result.decisions)} certificate(s) in their renewal window, "
          f"{len(ready)} with the renewal training passed, {len(waiting)} not yet; "
          f"{result.not_due} not yet due.")
    for c in result.renewed:
        print(f"  renewed {c.certificate_id}  valid until {c.expires_on}  {result.pdfs.get(c.certificate_id, '')}")
    for d in waiting:
        print("\n".join(_indent([g.detail for g in d.refusals], d.trainee_id, 12)))
    return 0


def cmd_register_check(args) -> int:
    from ..register import check_register

    settings = _settings(args)
    result = check_register(register_url=_register_url(args, settings), head=args.head)
    print("\n".join(result.describe()))
    return 0 if result.ok else EXIT_TAMPERED


def cmd_register_export(args) -> int:
    from ..register import export_register

    settings = _settings(args)
    out = Path(args.out) if args.out else settings.reports_dir / "register_public.csv"
    result = export_register(register_url=_register_url(args, settings), out=out, today=args.date)
    print(f"{len(result.rows)} row(s) of certificates valid on {result.today}, by prefecture, with only what each "
          f"coordinator agreed to publish; left out: {result.withheld} coordinator(s) who agreed to publish "
          f"nothing -> {result.path}")
    return 0


def cmd_register_history(args) -> int:
    from ..register import certificate_history

    settings = _settings(args)
    cert, events = certificate_history(args.certificate_id, register_url=_register_url(args, settings))
    print(f"{cert.certificate_id}  {cert.name_ja} / {cert.name_en}  {cert.prefecture} {cert.affiliation}  "
          f"certified {cert.certified_on}, valid until {cert.expires_on}, renewals {cert.renewals}")
    for e in events:
        if e.kind == "renewed":
            what = f"expiry {e.details['expires_before']} -> {e.details['expires_after']}"
        elif e.kind == "amended":
            what = "; ".join(f"{k}: {e.details['before'][k]!r} -> {e.details['after'][k]!r}"
                             for k in e.details["after"]) + f" (reason: {e.details['reason']})"
        else:
            what = f"expiry {e.details['record']['expires_on']}"
        print(f"  {e.seq:>4}  {e.effective_on}  {e.kind:<9} {what}  [recorded {e.recorded_at:%Y-%m-%d %H:%M} UTC]")
    return 0


def cmd_register_amend(args) -> int:
    from ..register import AMENDABLE, amend_certificate

    settings = _settings(args)
    changes = {k: getattr(args, k) for k in AMENDABLE if getattr(args, k, None) is not None}
    cert = amend_certificate(args.certificate_id, register_url=_register_url(args, settings), reason=args.reason,
                             on=args.date, **changes)
    print(f"amended {cert.certificate_id}: {', '.join(changes)} (history kept; "
          f"`coordkit register history {cert.certificate_id}` shows it)")
    return 0


def register(subparsers) -> None:
    """Add the certification commands to `coordkit`'s subparsers."""
    def common(p, *, gradebook: bool = False) -> None:
        p.add_argument("--register-url", help="the register's SQLAlchemy URL (default: sqlite:///records/register.db "
                                              "in the checkout)")
        p.add_argument("--date", type=_date, help="the day to decide for, YYYY-MM-DD (default: today)")
        if gradebook:
            p.add_argument("--scores", help="per-item scores CSV (as `coordkit export` writes) instead of "
                                            "the gradebook")
            p.add_argument("--db-url", help="gradebook SQLAlchemy URL (default from pyproject.toml)")
            p.add_argument("--pdf-dir", help="folder for certificate PDFs (default reports/certificates)")
            p.add_argument("--reports", help="reports folder (default reports/)")
            p.add_argument("--dry-run", action="store_true", help="decide and explain, but write nothing")

    p = subparsers.add_parser("certify", help="decide certification from the gradebook and attendance, register "
                                              "the certified and write their certificates")
    p.add_argument("--cohort", help="cohort id (default: the current cohort from pyproject.toml)")
    p.add_argument("--synthetic-records", action="store_true",
                   help="for a simulated cohort: make fictional attendance.csv and people.csv if missing")
    p.add_argument("--seed", type=int, help="seed for --synthetic-records (default from pyproject.toml)")
    common(p, gradebook=True)
    p.set_defaults(func=cmd_certify)

    p = subparsers.add_parser("verify", help="check a certificate's verification code: valid, expired or unknown",
                              epilog="exit code 0 valid, 2 expired, 3 unknown, 1 not a code")
    p.add_argument("code", help="the verification code printed on the certificate, e.g. 7K3M-QX9A-2B46")
    common(p)
    p.set_defaults(func=cmd_verify)

    p = subparsers.add_parser("renewals", help="list who must renew, and by when")
    p.add_argument("--within", default="90d", help="how far ahead, e.g. 90d, 6m, 1y (default 90d)")
    common(p)
    p.set_defaults(func=cmd_renewals)

    p = subparsers.add_parser("renew", help="renew the certificates whose renewal training is passed")
    common(p, gradebook=True)
    p.set_defaults(func=cmd_renew)

    reg = subparsers.add_parser("register", help="the register of certified coordinators (認定者名簿)")
    reg_sub = reg.add_subparsers(dest="register_command", required=True, metavar="ACTION")
    p = reg_sub.add_parser("export", help="the register for publishing: affiliations by prefecture, only what "
                                          "each coordinator agreed to publish")
    p.add_argument("--out", help="CSV file (default reports/register_public.csv)")
    common(p)
    p.set_defaults(func=cmd_register_export)

    p = reg_sub.add_parser("check", help="recompute the register's hash chain: report any edit, insertion or "
                                         "deletion made outside coordkit",
                           epilog=f"exit code 0 intact, {EXIT_TAMPERED} a problem was found")
    p.add_argument("--head", help="a head hash printed by an earlier check, kept elsewhere: it must still be in "
                                  "the chain")
    common(p)
    p.set_defaults(func=cmd_register_check)

    p = reg_sub.add_parser("history", help="a certificate and every change to it")
    p.add_argument("certificate_id")
    p.add_argument("--register-url")
    p.set_defaults(func=cmd_register_history)

    p = reg_sub.add_parser("amend", help="change a coordinator's details or consent; the old values are kept")
    p.add_argument("certificate_id")
    p.add_argument("--reason", required=True, help="why (kept in the history)")
    for name in ("name_ja", "name_en", "affiliation", "prefecture", "specialist_fields"):
        p.add_argument("--" + name.replace("_", "-"), dest=name)
    for name in ("publish_name", "publish_affiliation", "publish_specialist_fields"):
        p.add_argument("--" + name.replace("_", "-"), dest=name, type=_yes_no, metavar="yes|no")
    common(p)
    p.set_defaults(func=cmd_register_amend)
