"""The records a certification needs besides the gradebook: Training Program 2 attendance
(``attendance.csv``) and personal details (``people.csv``) of a cohort, validated against SCHEMAS,
or for a simulated cohort fictional ones made from trainees.csv with a seed (marked 仮名 / pseudonym)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DatasetError

SCHEMAS = {  # for coordkit.cohort.read_table(..., schemas=SCHEMAS)
    "attendance": {"trainee_id": ("id", True), "session": ("str", True), "attended": ("bool", True)},
    "people": {"trainee_id": ("id", True), "name_ja": ("str", True), "name_en": ("str", True),
               "affiliation": ("str", True), "specialist_fields": ("str", False),
               "publish_name": ("bool", True), "publish_affiliation": ("bool", True),
               "publish_specialist_fields": ("bool", True)},
}
SYNTHETIC_MARKER = ".coordkit-synthetic-records"
SYNTHETIC_TP2_SESSIONS = ("TP2-day1", "TP2-day2")   # Appendix A placeholder: 2 days [NOT CONFIRMED]

_JA_SURNAMES = [("佐藤", "SATO"), ("鈴木", "SUZUKI"), ("高橋", "TAKAHASHI"), ("田中", "TANAKA"),
                ("伊藤", "ITO"), ("渡辺", "WATANABE"), ("山本", "YAMAMOTO"), ("中村", "NAKAMURA"),
                ("小林", "KOBAYASHI"), ("加藤", "KATO"), ("吉田", "YOSHIDA"), ("山田", "YAMADA")]
_JA_GIVEN = [("花子", "Hanako"), ("太郎", "Taro"), ("美咲", "Misaki"), ("健太", "Kenta"), ("陽子", "Yoko"),
             ("翔", "Sho"), ("由美", "Yumi"), ("大輔", "Daisuke"), ("恵", "Megumi"), ("誠", "Makoto")]
_OTHER_NAMES = {  # first language -> (family names, given names), katakana and Latin letters
    "ポルトガル語": ([("シルバ", "SILVA"), ("サントス", "SANTOS")], [("アナ", "Ana"), ("ルーカス", "Lucas")]),
    "中国語": ([("王", "WANG"), ("李", "LI")], [("芳", "Fang"), ("偉", "Wei")]),
    "ベトナム語": ([("グエン", "NGUYEN"), ("チャン", "TRAN")], [("ティ・ラン", "Thi Lan"), ("ヴァン・ナム", "Van Nam")]),
    "英語": ([("スミス", "SMITH"), ("ブラウン", "BROWN")], [("エミリー", "Emily"), ("ジェームズ", "James")]),
    "スペイン語": ([("ガルシア", "GARCIA"), ("ロペス", "LOPEZ")], [("マリア", "Maria"), ("カルロス", "Carlos")]),
    "タガログ語": ([("レイエス", "REYES"), ("クルス", "CRUZ")], [("ジョイ", "Joy"), ("マーク", "Mark")]),
    "韓国語": ([("キム", "KIM"), ("パク", "PARK")], [("ミンス", "Minsu"), ("ジヨン", "Jiyoung")]),
    "ネパール語": ([("グルン", "GURUNG"), ("タパ", "THAPA")], [("ラム", "Ram"), ("シタ", "Sita")]),
}
_AFFILIATIONS = {  # org_type -> fictional affiliation (架空); {pref} the prefecture, {x} a letter
    "municipality": "{x}市 多文化共生課（架空）",
    "designated_city": "{x}市 国際交流センター（架空）",
    "prefecture": "{pref} 外国人総合相談センター（架空）",
    "international_association": "{pref}国際交流協会（架空）",
    "national_government": "出入国在留管理局 {x}出張所 相談窓口（架空）",
}
_SPECIALIST_FIELDS = ["在留手続", "労働", "医療・健康保険", "年金・社会保険", "税", "出産・子育て", "教育",
                      "家族・婚姻・国籍", "DV・虐待", "住まい", "生活困窮・福祉", "防災"]


@dataclass(frozen=True)
class Records:
    attendance: Any                 # DataFrame: trainee_id, session, attended
    people: Any                     # DataFrame: see SCHEMAS["people"]
    synthetic: bool                 # made by synthesize_records (fictional people)
    written: tuple[Path, ...] = ()  # files this call wrote


def synthesize_records(trainees, *, seed: int, enrolment=None) -> tuple[Any, Any]:
    """Fictional Training Program 2 attendance and personal records for a simulated cohort,
    from its trainees table and a seed: names marked （仮名）/ (pseudonym), affiliations （架空）.
    With the cohort's `enrolment` table, attendance agrees with its tp2 stage (attended: every
    session; absent: the last session missed; no tp2 row: never reached TP2, no attendance rows)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng([seed, 7])
    tp2 = None
    if enrolment is not None:
        rows = enrolment[enrolment["stage"] == "tp2"]
        tp2 = dict(zip(rows["trainee_id"], rows["status"]))
    attendance, people = [], []
    for row in trainees.itertuples(index=False):
        for n, session in enumerate(SYNTHETIC_TP2_SESSIONS, start=1):
            if tp2 is None:
                present = bool(rng.random() < 0.95)
            elif row.trainee_id not in tp2:
                continue
            else:
                present = tp2[row.trainee_id] == "attended" or n < len(SYNTHETIC_TP2_SESSIONS)
            attendance.append({"trainee_id": row.trainee_id, "session": session, "attended": present})
        families, givens = _OTHER_NAMES.get(row.first_language, (_JA_SURNAMES, _JA_GIVEN))
        (fam_ja, fam_en), (giv_ja, giv_en) = (families[int(rng.integers(len(families)))],
                                              givens[int(rng.integers(len(givens)))])
        template = _AFFILIATIONS.get(row.org_type, "{x}相談窓口（架空）")
        fields = rng.choice(len(_SPECIALIST_FIELDS), size=int(rng.integers(1, 3)), replace=False)
        people.append({
            "trainee_id": row.trainee_id, "name_ja": f"{fam_ja} {giv_ja}（仮名）",
            "name_en": f"{fam_en} {giv_en} (pseudonym)",
            "affiliation": template.format(pref=row.prefecture, x="ABCDEFGH"[int(rng.integers(8))]),
            "specialist_fields": ";".join(_SPECIALIST_FIELDS[i] for i in sorted(fields)),
            "publish_name": bool(rng.random() < 0.4), "publish_affiliation": bool(rng.random() < 0.8),
            "publish_specialist_fields": bool(rng.random() < 0.6)})
    return (pd.DataFrame(attendance, columns=list(SCHEMAS["attendance"])),
            pd.DataFrame(people, columns=list(SCHEMAS["people"])))


def _check_ids(frame, path: Path, ids: set[str], *, unique_by: list[str]) -> None:
    unknown = ~frame["trainee_id"].isin(ids)
    if unknown.any():
        idx = int(unknown.idxmax())
        raise DatasetError(f"{path} row {idx + 2} column 'trainee_id': {frame['trainee_id'][idx]!r} is not in "
                           "trainees.csv; add the trainee or fix the id")
    dup = frame.duplicated(unique_by)
    if dup.any():
        idx = int(dup.idxmax())
        key = ", ".join(f"{c} {frame[c][idx]!r}" for c in unique_by)
        raise DatasetError(f"{path} row {idx + 2}: {key} appears twice; keep one row")


def load_records(folder: Path | str, *, trainees, seed: int, synthetic: bool = False,
                 write: bool = True) -> Records:
    """attendance.csv and people.csv of a cohort, validated (errors name file, row and column).
    When they are missing and `synthetic` is set, fictional ones are made from trainees.csv and
    (with `write`) saved next to it, never over existing files."""
    from ..cohort import read_table

    folder = Path(folder)
    paths = {t: folder / f"{t}.csv" for t in SCHEMAS}
    missing = [p for p in paths.values() if not p.is_file()]
    if missing and not synthetic:
        raise DatasetError(f"{missing[0]}: file not found; record the cohort's "
                           f"{missing[0].stem} there (columns {', '.join(SCHEMAS[missing[0].stem])}), "
                           "or for a simulated cohort pass --synthetic-records to make fictional ones")
    made, written = {}, []
    if missing:
        enrolment = folder / "enrolment.csv"
        made = dict(zip(SCHEMAS, synthesize_records(
            trainees, seed=seed, enrolment=read_table(enrolment, "enrolment") if enrolment.is_file() else None)))
        if write:
            try:
                for table, path in paths.items():
                    if not path.is_file():
                        made[table].to_csv(path, index=False, lineterminator="\n")
                        written.append(path)
                (folder / SYNTHETIC_MARKER).touch()
            except OSError as exc:
                from ..errors import OutputError
                raise OutputError(f"cannot write {folder} ({exc.strerror}); check its permissions") from None
    frames = {t: read_table(p, t, schemas=SCHEMAS) if p.is_file() else made[t] for t, p in paths.items()}
    ids = set(trainees["trainee_id"])
    _check_ids(frames["attendance"], paths["attendance"], ids, unique_by=["trainee_id", "session"])
    _check_ids(frames["people"], paths["people"], ids, unique_by=["trainee_id"])
    return Records(attendance=frames["attendance"], people=frames["people"],
                   synthetic=bool(made) or (folder / SYNTHETIC_MARKER).is_file(), written=tuple(written))
