"""The register for publishing: valid certificates only, by prefecture and affiliation, carrying
only what each coordinator agreed to publish (`coordkit register export`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from ..content.vocab import PREFECTURES  # JIS X 0401 order
from .codes import RegisterError

if TYPE_CHECKING:
    from .schema import Certificate

PUBLISHABLE = {"publish_name": ("name_ja", "name_en"), "publish_affiliation": ("affiliation",),
               "publish_specialist_fields": ("specialist_fields",)}
EXPORT_COLUMNS = ["prefecture", "affiliation", "name_ja", "name_en", "specialist_fields"]


@dataclass(frozen=True)
class RegisterExport:
    today: dt.date
    rows: tuple[dict, ...]
    withheld: int                   # valid certificates of coordinators who agreed to publish nothing
    path: Path | None = None

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(list(self.rows), columns=EXPORT_COLUMNS)


def public_rows(certificates: Iterable[Certificate], *, today: dt.date) -> tuple[list[dict], int]:
    """The publishable register: valid certificates only, by prefecture (JIS order) and affiliation,
    each field present only if the coordinator agreed to publish it (blank otherwise). A coordinator
    who agreed to nothing is left out; identical rows are merged."""
    rows, withheld = [], 0
    for c in certificates:
        if c.status(today) != "valid":
            continue
        row = {"prefecture": c.prefecture, "affiliation": "", "name_ja": "", "name_en": "", "specialist_fields": ""}
        shown = False
        for flag, keys in PUBLISHABLE.items():
            if getattr(c, flag):
                shown = True
                for key in keys:
                    value = getattr(c, key)
                    row[key] = ";".join(value) if isinstance(value, tuple) else value
        if shown:
            rows.append(row)
        else:
            withheld += 1
    order = {p: i for i, p in enumerate(PREFECTURES)}
    unique = {tuple(r.values()): r for r in rows}
    ordered = sorted(unique.values(), key=lambda r: (order.get(r["prefecture"], 99), r["affiliation"],
                                                      r["name_ja"], r["specialist_fields"]))
    return ordered, withheld


def export_register(*, register_url: str, out: Path | str | None = None,
                    today: dt.date | None = None) -> RegisterExport:
    """The register for publishing (affiliations by prefecture), carrying only what each coordinator
    agreed to publish; written as UTF-8 CSV with a byte-order mark (opens correctly in Excel) when
    `out` is given."""
    today = today or dt.date.today()
    from .register import open_register

    with open_register(register_url, create=False) as reg:
        rows, withheld = public_rows(reg.certificates(), today=today)
    result = RegisterExport(today=today, rows=tuple(rows), withheld=withheld, path=Path(out) if out else None)
    if out is not None:
        out = Path(out)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            from ..course.export import escape_formulas

            escape_formulas(result.to_frame()).to_csv(out, index=False, encoding="utf-8-sig", lineterminator="\n")
        except OSError as exc:
            raise RegisterError(f"cannot write {out} ({exc.strerror}); pass a writable --out") from None
    return result
