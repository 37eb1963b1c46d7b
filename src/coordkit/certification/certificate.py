"""The certificate (認定証) as a bilingual Japanese / English PDF, one A4 landscape page per
coordinator, made with fpdf2 and the IPAexGothic font shipped by matplotlib-fontja (so it works
offline and the text can be extracted: fpdf2 embeds a subset of the font with its Unicode map).

The page carries the certificate id, the dates (Japanese era and Western calendar in Japanese,
day month year in English) and the verification code; `coordkit verify CODE` answers valid,
expired or unknown from the register. Synthetic coordinators get a SPECIMEN banner.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Sequence

from ..errors import ConfigError, OutputError
from .schema import Certificate

ISSUER_JA = "外国人支援コーディネーター養成研修 事務局"
ISSUER_EN = "Secretariat, Training Program for Support Coordinators for Foreign Nationals"
_REIWA_START = dt.date(2019, 5, 1)
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def wareki(day: dt.date) -> str:
    """A date as Japanese public administration writes it: 令和7年3月28日 (the first year is 元年).
    Dates before the Reiwa era are written in the Western calendar."""
    if day < _REIWA_START:
        return f"{day.year}年{day.month}月{day.day}日"
    year = day.year - _REIWA_START.year + 1
    return f"令和{'元' if year == 1 else year}年{day.month}月{day.day}日"


def english_date(day: dt.date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _font_path() -> str:
    try:
        import matplotlib_fontja
    except ImportError:
        raise ConfigError("matplotlib-fontja is not installed (it provides the Japanese font of the "
                          "certificates); run `pip install -r requirements.txt`") from None
    return matplotlib_fontja.get_font_ttf_path()


def render_certificate(cert: Certificate, *, issued_on: dt.date | None = None, specimen: bool = False,
                       notes: Sequence[str] = (), issuer_ja: str = ISSUER_JA, issuer_en: str = ISSUER_EN) -> bytes:
    """The PDF bytes of one certificate. `notes` are printed small at the foot (e.g. that the
    validity period is an assumption); `specimen` adds a banner saying the data are fictional."""
    from fpdf import FPDF

    issued_on = issued_on or cert.certified_on
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_title(f"認定証 / Certificate {cert.certificate_id}")
    pdf.set_author(issuer_en)
    pdf.set_creation_date(dt.datetime.combine(issued_on, dt.time(), tzinfo=dt.timezone.utc))
    pdf.add_font("ipaexg", fname=_font_path())
    pdf.add_page()
    width = pdf.w

    pdf.set_draw_color(35, 60, 110)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, width - 20, pdf.h - 20)
    pdf.set_line_width(0.3)
    pdf.rect(13, 13, width - 26, pdf.h - 26)

    def centred(y: float, text: str, size: float, *, colour=(0, 0, 0)) -> None:
        pdf.set_font("ipaexg", size=size)
        pdf.set_text_color(*colour)
        pdf.set_xy(20, y)
        pdf.cell(width - 40, size * 0.45, text, align="C")

    if specimen:
        centred(17, "見本（架空のデータ） / SPECIMEN (fictional data)", 11, colour=(190, 0, 0))
    centred(23, "認 定 証", 30)
    centred(36, "Certificate", 15)
    centred(45, "外国人支援コーディネーター", 18)
    centred(53.5, "Support Coordinator for Foreign Nationals", 12)
    centred(65, cert.name_ja, 22)
    centred(75.5, cert.name_en, 14)

    pdf.set_text_color(0, 0, 0)
    pdf.set_xy(30, 85)
    pdf.set_font("ipaexg", size=12)
    pdf.multi_cell(width - 60, 6.5, align="L",
                   text="あなたは、外国人支援コーディネーター養成研修の全課程を修了し、修了認定テストに"
                        "合格しましたので、外国人支援コーディネーターとして認定したことを証します。")
    pdf.set_x(30)
    pdf.set_font("ipaexg", size=10.5)
    pdf.multi_cell(width - 60, 5.5, align="L",
                   text=f"This is to certify that {cert.name_en} has completed the Training Program for Support "
                        "Coordinators for Foreign Nationals, has passed the completion test, and is certified as a "
                        "Support Coordinator for Foreign Nationals.")

    rows = [("認定番号 / Certificate No.", cert.certificate_id),
            ("認定日 / Date of certification", f"{wareki(cert.certified_on)} / {english_date(cert.certified_on)}"),
            ("有効期限 / Valid until", f"{wareki(cert.expires_on)} / {english_date(cert.expires_on)}")]
    if cert.renewals:
        rows.append(("更新 / Renewals", f"{cert.renewals}回 / {cert.renewals}"))
    rows.append(("照合コード / Verification code", cert.code))
    y = pdf.get_y() + 5
    for label, value in rows:
        pdf.set_xy(45, y)
        pdf.set_font("ipaexg", size=10.5)
        pdf.cell(85, 7, label)
        pdf.set_font("ipaexg", size=12)
        pdf.cell(width - 90 - 85, 7, value)
        y += 7

    pdf.set_xy(30, y + 2)
    pdf.set_font("ipaexg", size=9)
    pdf.multi_cell(width - 60, 4.6,
                   "照合コードを発行者に照会すると、この認定証が有効か、有効期限を過ぎているかを確認できます。\n"
                   "Quote the verification code to the issuer to check whether this certificate is valid or "
                   "has expired.", align="L")
    pdf.set_font("ipaexg", size=8)
    pdf.set_text_color(90, 90, 90)
    for note in notes:
        pdf.set_x(30)
        pdf.multi_cell(width - 60, 3.8, note, align="L")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("ipaexg", size=10)
    pdf.set_xy(width - 20 - 180, max(pdf.get_y() + 2, pdf.h - 34))
    pdf.multi_cell(180, 5.2, f"発行日 {wareki(issued_on)} / Issued {english_date(issued_on)}\n{issuer_ja}\n{issuer_en}",
                   align="R")
    return bytes(pdf.output())


def certificate_filename(cert: Certificate) -> str:
    """<certificate id>.pdf, or <certificate id>_renewal<N>.pdf after the N-th renewal."""
    return cert.certificate_id + (f"_renewal{cert.renewals}" if cert.renewals else "") + ".pdf"


def write_certificate(cert: Certificate, *, out_dir: Path | str, issued_on: dt.date | None = None,
                      specimen: bool = False, notes: Sequence[str] = (), issuer_ja: str = ISSUER_JA,
                      issuer_en: str = ISSUER_EN) -> Path:
    """Write <out_dir>/<certificate_filename(cert)> and return its path. Written to a temporary
    file first, so a failed run never leaves half a PDF."""
    out_dir = Path(out_dir)
    name = certificate_filename(cert)
    data = render_certificate(cert, issued_on=issued_on, specimen=specimen, notes=notes,
                              issuer_ja=issuer_ja, issuer_en=issuer_en)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out_dir, suffix=".pdf.tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, out_dir / name)
    except OSError as exc:
        raise OutputError(f"cannot write the certificate {out_dir / name} ({exc.strerror}); "
                          "choose a writable --pdf-dir") from None
    return out_dir / name
