"""The command line, `coordkit ...`: one module per command group (course: release to report; content:
book, facts, easy Japanese; certify: certification and the register; mark: marking written answers;
hub: accounts and courses on the shared server), each thin: it parses, calls one library function,
prints, and turns a CoordkitError into one line and exit code 1. It may import every other part of
coordkit, always inside the command bodies so that `coordkit --help` stays instant; nothing in
coordkit imports the command line."""

from .common import check_db_url
from .main import build_parser, main

__all__ = ["build_parser", "check_db_url", "main"]
