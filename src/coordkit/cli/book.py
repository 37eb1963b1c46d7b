"""`coordkit book notebooks`: the module pages as notebooks for a trainee's JupyterLab."""

from __future__ import annotations

from pathlib import Path


def cmd_book_notebooks(args) -> int:
    from ..book_notebooks import export_notebooks
    from ..config import load_settings

    settings = load_settings(Path(args.root) if args.root else None)
    out = Path(args.out) if args.out else settings.root / "_build" / "notebooks"
    editions = tuple(args.edition) if args.edition else ("ja", "en")
    result = export_notebooks(settings.root, out_dir=out, facts_path=settings.facts, editions=editions,
                              pages=tuple(args.page) or None)
    print(f"{len(result.notebooks)} notebook(s) in {result.out_dir}/ ({', '.join(editions)})")
    print(f"Next: copy {result.out_dir} to the Hub's shared folder, e.g. "
          f"`sudo cp -r {result.out_dir}/. /srv/coordkit/selfchecks/` (see the trainee's guide)")
    return 0


def register(book) -> None:
    """Add `notebooks` to the `coordkit book` subcommands."""
    p = book.add_parser("notebooks", help="export the module pages (both editions) as notebooks for JupyterLab",
                        description="Each module page becomes <out>/<edition>/<page>.ipynb with its facts "
                        "resolved and embedded, so its self-check runs with only the installed package.")
    p.add_argument("--out", help="output folder (default _build/notebooks)")
    p.add_argument("--edition", action="append", choices=("ja", "en"), help="only this edition (repeatable)")
    p.add_argument("--page", action="append", default=[], help="only this page, by file stem (repeatable)")
    p.set_defaults(func=cmd_book_notebooks)
