"""The certificate PDF: both languages, the dates, the id and the verification code can be read
back from the file (extracted with pypdf, as a verifier's or a screen reader's tools would)."""

import datetime as dt
import io

import pytest

from coordkit.certification.certificate import english_date, render_certificate, wareki, write_certificate
from coordkit.errors import OutputError
from coordkit.certification.register import Certificate

CERT = Certificate(certificate_id="SC-2025-0007", cohort="fy2025", trainee_id="tr007",
                   name_ja="グエン ティ・ラン（仮名）", name_en="NGUYEN Thi Lan (pseudonym)",
                   affiliation="A市 多文化共生課（架空）", prefecture="愛知県", specialist_fields=("労働",),
                   certified_on=dt.date(2025, 3, 28), expires_on=dt.date(2028, 3, 28), renewals=0,
                   verification_code="7K3MQX9A2B46")


def text_of(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    return " ".join(reader.pages[0].extract_text().split())


@pytest.mark.parametrize("day, expected", [
    (dt.date(2025, 3, 28), "令和7年3月28日"),
    (dt.date(2019, 5, 1), "令和元年5月1日"),
    (dt.date(2028, 2, 29), "令和10年2月29日"),
    (dt.date(2019, 4, 30), "2019年4月30日"),     # before Reiwa: Western calendar
])
def test_dates_in_japanese_follow_the_era(day, expected):
    assert wareki(day) == expected


def test_dates_in_english():
    assert english_date(dt.date(2027, 2, 28)) == "28 February 2027"


def test_the_certificate_reads_in_japanese_and_english():
    text = text_of(render_certificate(CERT))
    for ja in ("認 定 証", "外国人支援コーディネーター", "グエン ティ・ラン（仮名）", "認定番号", "有効期限",
               "令和7年3月28日", "令和10年3月28日", "照合コード", "修了認定テストに合格"):
        assert ja in text, ja
    for en in ("Certificate", "Support Coordinator for Foreign Nationals", "NGUYEN Thi Lan (pseudonym)",
               "Certificate No.", "Valid until", "28 March 2025", "28 March 2028", "Verification code",
               "has passed the completion test"):
        assert en in text, en
    assert "SC-2025-0007" in text and "7K3M-QX9A-2B46" in text
    assert "SPECIMEN" not in text and "Renewals" not in text


def test_specimen_banner_renewals_and_notes_appear_when_asked():
    renewed = Certificate(**{**CERT.__dict__, "renewals": 2, "expires_on": dt.date(2034, 3, 28)})
    text = text_of(render_certificate(renewed, issued_on=dt.date(2031, 2, 1), specimen=True,
                                      notes=["有効期間は仮定の値です。", "The validity period is an assumption."]))
    assert "見本（架空のデータ）" in text and "SPECIMEN (fictional data)" in text
    assert "更新 / Renewals 2回 / 2" in text
    assert "令和16年3月28日" in text and "28 March 2034" in text
    assert "発行日 令和13年2月1日" in text and "Issued 1 February 2031" in text
    assert "有効期間は仮定の値です。" in text and "The validity period is an assumption." in text


def test_write_certificate_names_the_file_by_id_and_renewal(tmp_path):
    first = write_certificate(CERT, out_dir=tmp_path / "certs")
    assert first == tmp_path / "certs" / "SC-2025-0007.pdf"
    assert first.read_bytes().startswith(b"%PDF-")
    renewed = Certificate(**{**CERT.__dict__, "renewals": 1})
    assert write_certificate(renewed, out_dir=tmp_path / "certs").name == "SC-2025-0007_renewal1.pdf"
    assert sorted(p.name for p in (tmp_path / "certs").iterdir()) == ["SC-2025-0007.pdf",
                                                                     "SC-2025-0007_renewal1.pdf"]


def test_an_unwritable_folder_is_a_one_line_error(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(OutputError, match="cannot write the certificate .*--pdf-dir"):
        write_certificate(CERT, out_dir=blocker / "certs")
