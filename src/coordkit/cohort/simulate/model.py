"""A synthetic cohort: trainees, their submissions to every released assignment, and every table the
evaluation reads (see the data dictionary). Everything here is fictional and generated from a seed.

One latent ability drives it all, so the evaluation has real effects to find:

- each trainee has an ability at the end of the training (theta) and a learning gain (on the same
  logit scale); the ability at enrolment is theta - gain;
- answers follow a simple item-response model: P(correct) = 1 / (1 + exp(-1.7 (theta - b))) with the
  item's difficulty b from its bank; wrong answers are drawn from the item's distractors, and a few
  are left blank or written in the wrong form, as real trainees do;
- the pre-test uses the ability at enrolment, the tests the ability at the end; written answers are
  marked against their rubric by pseudonymous raters who differ a little in severity, and a share of
  them is marked twice;
- the gates (TP1 confirmation test, completion test) are decided on the marks, with the pass marks of
  the certification rule (coordkit.rule; an ASSUMPTION: ISA has not published them); withdrawals and absences are rare and more
  likely for weaker trainees;
- each module of the reaction survey has a hidden quality effect and, when weak, a recurring
  complaint (a theme of `coordkit.themes`), so the weak modules show in both the ratings and the
  comments;
- consultation records at the trainees' counters improve (more consultations connected to a
  solution, faster) as the trainee's ability grows through the training; topics and languages
  follow the one-stop centres' published shares (curriculum section 8.3);
- the follow-up survey six months after certification reports roughly what the records show.

The tables are generated vectorised (numpy), so bench/evaluate.py can make 10,000 trainees and a
million consultation records in seconds with the same code.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass

import numpy as np

from ...banks import Bank, Item
from ...errors import CoordkitError
from ...rule import DEFAULT_PASS_PERCENT

PASS_MARK = DEFAULT_PASS_PERCENT   # the rule's default (coordkit.rule), kept for this module's importers

# Weights follow the prefectures with the most foreign residents (end of 2024, curriculum §8.1)
# and a tail of other prefectures; they shape the synthetic cohort, nothing more.
PREFECTURE_WEIGHTS = {  # keys: coordkit.vocab.PREFECTURES
    "東京都": 19.6, "大阪府": 8.9, "愛知県": 8.8, "神奈川県": 7.8, "埼玉県": 7.0, "千葉県": 5.5,
    "兵庫県": 3.5, "静岡県": 3.0, "福岡県": 2.9, "茨城県": 2.8, "群馬県": 2.0, "岐阜県": 1.8,
    "三重県": 1.8, "広島県": 1.6, "京都府": 1.6, "長野県": 1.0, "北海道": 1.4, "宮城県": 0.7,
}
ORG_TYPE_WEIGHTS = {  # keys: coordkit.vocab.ORG_TYPES; who may train: counters run by national or local government, or commissioned by them
    "municipality": 0.45, "prefecture": 0.20, "designated_city": 0.15,
    "international_association": 0.15, "national_government": 0.05,
}
FIRST_LANGUAGES = {
    "日本語": 0.72, "ポルトガル語": 0.06, "中国語": 0.06, "ベトナム語": 0.04, "英語": 0.04,
    "スペイン語": 0.03, "タガログ語": 0.02, "韓国語": 0.02, "ネパール語": 0.01,
}
# Consultation topics: the five largest are the one-stop centres' FY2023 shares (curriculum §8.3:
# taxes 10.9 %, general procedures 10.2, social insurance/pension 8.5, immigration procedures 6.9,
# interpretation/translation 6.8); the remaining 56.7 % is split over the other life domains of §5
# by ASSUMPTION.
TOPIC_WEIGHTS = {
    "tax": 10.9, "procedures": 10.2, "social_insurance": 8.5, "immigration": 6.9, "interpretation": 6.8,
    "labour": 9.0, "medical": 8.0, "childcare_education": 8.0, "housing": 6.0, "welfare": 6.0, "family": 4.0,
    "dv": 2.0, "consumer": 3.0, "japanese_language": 3.5, "disaster": 1.2, "other": 6.0,
}
# Languages: Portuguese 38.6 %, Japanese 20.4, English 12.0, Spanish 9.5 (§8.3, FY2023); the other
# 19.5 % split by ASSUMPTION.
CONSULTATION_LANGUAGES = {
    "ポルトガル語": 38.6, "日本語": 20.4, "英語": 12.0, "スペイン語": 9.5, "中国語": 5.0, "ベトナム語": 4.5,
    "タガログ語": 3.0, "ネパール語": 2.0, "韓国語": 1.5, "インドネシア語": 1.5, "その他の言語": 2.0,
}
# Partner organisations a consultation is connected to (curriculum §5), and the model's typical
# days to resolution and tendency to refer, per topic (ASSUMPTIONS that shape the synthetic data).
PARTNERS = {
    "tax": ("市区町村税務課", "税務署"), "procedures": ("市区町村の担当課",),
    "social_insurance": ("年金事務所", "市区町村国民健康保険窓口"), "immigration": ("地方出入国在留管理局", "行政書士"),
    "interpretation": ("国際交流協会",), "labour": ("労働基準監督署", "ハローワーク（外国人雇用サービスセンター）"),
    "medical": ("医療機関（医療通訳）", "市区町村国民健康保険窓口"), "childcare_education": ("教育委員会", "市区町村子育て支援課"),
    "housing": ("住まいの相談窓口",), "welfare": ("福祉事務所", "社会福祉協議会"),
    "family": ("法テラス", "家庭裁判所"), "dv": ("配偶者暴力相談支援センター", "警察"), "consumer": ("消費生活センター",),
    "japanese_language": ("地域の日本語教室",), "disaster": ("市区町村防災担当課",), "other": ("弁護士会",),
}
BASE_DAYS = {"tax": 3, "procedures": 2, "social_insurance": 5, "immigration": 9, "interpretation": 1, "labour": 14,
             "medical": 4, "childcare_education": 7, "housing": 10, "welfare": 12, "family": 20, "dv": 5,
             "consumer": 8, "japanese_language": 3, "disaster": 2, "other": 5}
REFER_BIAS = {"tax": -0.8, "procedures": -1.6, "social_insurance": -0.4, "immigration": 0.4, "interpretation": -2.5,
              "labour": 0.6, "medical": 0.0, "childcare_education": -0.3, "housing": 0.0, "welfare": 0.5,
              "family": 1.2, "dv": 1.5, "consumer": 0.3, "japanese_language": -0.2, "disaster": -1.5, "other": 0.0}

# The simulated cohort's calendar (fictional; the shape of the FY2024 round, August to March).
TIMELINE = {"enrolled": dt.date(2025, 8, 1), "tp1_end": dt.date(2025, 9, 26), "tp1_check": dt.date(2025, 10, 1),
            "practice_end": dt.date(2025, 12, 26), "tp2": dt.date(2026, 1, 15),
            "completion_test": dt.date(2026, 1, 30), "certified": dt.date(2026, 3, 27)}
FOLLOWUP_AFTER_DAYS = 183            # the follow-up survey: six months after certification
RECORDS_BEFORE_DAYS = 182            # consultation records from six months before enrolment
CONSULTATIONS_PER_TRAINEE = 100      # default number of consultation records per trainee
DOUBLE_MARK_SHARE = 0.25             # ASSUMPTION: a quarter of the written answers, and at least 10,
DOUBLE_MARK_MIN = 10                 # are marked by a second rater
ROSTER_YEARS = tuple(range(2025, 2033))
# The renewal training's assignments (coordkit.certification.CertificationRule): taken three years
# after certification, not in the initial training, so the simulated trainees do not submit them.
RENEWAL_BANKS = ("renewal_refresher", "case_meeting")
MODEL_TEST = tuple(np.linspace(-2.8, -0.2, 12))  # item difficulties of a gate test that has no bank yet

# Reaction comments, each written to carry one theme of coordkit.themes and one tone.
REACTION_COMMENTS: dict[str, dict[str, tuple[str, ...]]] = {
    "cases": {
        "positive": ("事例が具体的で、窓口ですぐに使える内容だった。",
                     "グループでの事例検討で、ほかの自治体のやり方を知ることができて参考になった。"),
        "request": ("事例をもう少し増やしてほしい。", "演習の時間をもっと取ってほしい。"),
        "critical": ("事例が単純すぎて、実際の複雑な相談とは違うと感じた。",)},
    "terminology": {
        "positive": ("制度の用語が図で整理されていて、わかりやすかった。",),
        "request": ("用語集を配布してほしい。",),
        "critical": ("専門用語が多く、理解が追いつかなかった。", "用語が難しい部分があった。", "法律の条文の説明が難解だった。")},
    "workload": {
        "positive": ("自分のペースで視聴できたので、業務と両立できた。",),
        "request": ("1本の動画をもう少し短くしてほしい。",),
        "critical": ("動画が長く感じた。", "業務と並行しての受講は時間的に厳しかった。")},
    "partners": {
        "positive": ("関係機関の役割が整理できた。", "地域の支援団体とのつなぎ方がわかりやすかった。"),
        "request": ("自分の地域の連携先の情報がほしい。",),
        "critical": ("地域によって関係機関の体制が違い、そのまま使えない部分があった。",)},
    "practice_fit": {
        "positive": ("明日からの相談対応にすぐ役立つ内容だった。",),
        "request": ("現場の相談員の体験談をもっと聞きたい。",),
        "critical": ("実際の窓口の状況と合わない部分があった。",)},
    "language": {
        "positive": ("通訳を介した面談の注意点が具体的でよかった。",),
        "request": ("やさしい日本語の例をもっと見たい。", "多言語の案内文の作り方も学びたい。"),
        "critical": ("通訳を介した相談の説明が少なく、わかりにくかった。",)},
    "rules": {
        "positive": ("期限の計算の練習が役に立った。",),
        "request": ("制度改正の最新情報も知りたい。",),
        "critical": ("法令の説明が中心で、覚えることが多すぎた。",)},
    "platform": {
        "request": ("資料をダウンロードできるようにしてほしい。",),
        "critical": ("動画が途中で止まることがあった。", "研修サイトにログインしにくかった。")},
}
FOLLOWUP_COMMENTS = (
    "研修後、複数の課題がある相談を整理してから関係機関につなげるようになった。",
    "在留資格に関する相談で、期限を先に確認する習慣がついた。",
    "地域の関係機関と顔の見える関係づくりを進めている。",
    "同僚から難しい事例について相談を受けることが増えた。",
    "予防的支援として、外国人住民向けの説明会を開催した。",
    "やさしい日本語を使った案内文を窓口で作成した。",
    "人員が少なく、研修で学んだことを十分に生かす時間がない。",
)
MANUAL_ANSWERS = {
    "high": "課題を分野ごとに整理し、期限と緊急度の順に支援計画を立てる。まず医療、次に期限のある届出、"
            "続いて就労と生活の支援につなぐ。本人ができることと次回の確認日も決める。",
    "mid": "在留、仕事、保険の問題がある。入管とハローワークと市役所に相談する。",
    "low": "いろいろな問題があるので、関係機関に相談してもらう。",
}


@dataclass(frozen=True)
class Trainee:
    trainee_id: str
    prefecture: str
    org_type: str
    years_experience: float
    first_language: str
    theta: float


def _choice(rng: np.random.Generator, weights: dict) -> str:
    keys = list(weights)
    p = np.array(list(weights.values()), dtype=float)
    return keys[rng.choice(len(keys), p=p / p.sum())]


def make_trainees(n: int, *, seed: int) -> list[Trainee]:
    if n <= 0:
        raise CoordkitError(f"a cohort needs at least 1 trainee (got {n}); pass --trainees 60 or another positive number")
    rng = np.random.default_rng(seed)
    trainees = []
    for i in range(1, n + 1):
        years = round(float(1 + rng.gamma(2.0, 2.5)), 1)   # at least about a year of counter experience
        # experienced counter staff, screened on experience: a little above the banks' typical trainee
        theta = float(rng.normal(0.5, 0.85) + 0.25 * math.log(years))
        trainees.append(Trainee(trainee_id=f"tr{i:03d}", prefecture=_choice(rng, PREFECTURE_WEIGHTS),
                                org_type=_choice(rng, ORG_TYPE_WEIGHTS), years_experience=years,
                                first_language=_choice(rng, FIRST_LANGUAGES), theta=round(theta, 3)))
    return trainees


def p_correct(theta, difficulty):
    """The item-response curve P(correct) = 1 / (1 + exp(-1.7 (theta - b))), for numbers or arrays."""
    return 1.0 / (1.0 + np.exp(-1.7 * (np.asarray(theta, dtype=float) - difficulty)))


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _literal(value: object) -> str:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)


def simulated_answer(item: Item, theta: float, rng: np.random.Generator) -> object:
    """The answer a trainee of ability theta writes: the key, a distractor, a blank or a malformed one."""
    if rng.random() < p_correct(theta, item.difficulty):
        return item.key
    roll = rng.random()
    if roll < 0.06:
        return ""
    if roll < 0.10:
        return {"date": "4月中旬", "number": "約5万", "choice": "BとC", "order": "わからない"}.get(item.kind, "")
    return item.distractors[int(rng.integers(len(item.distractors)))]


def fill_submission(released: dict, bank: Bank, trainee: Trainee, rng: np.random.Generator,
                    *, record: dict | None = None) -> dict:
    """A copy of the released notebook with this trainee's answers written in. With `record`, the
    answer written for each autograded item is stored there by grade_id."""
    nb = json.loads(json.dumps(released))
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        gid = meta.get("grade_id", "")
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "code" and meta.get("solution") and gid.endswith("_answer"):
            item = bank.item(gid[: -len("_answer")])
            value = simulated_answer(item, trainee.theta, rng)
            if record is not None:
                record[item.grade_id] = value
            lines = [f"{item.grade_id} = {_literal(value)}" if l.startswith(f"{item.grade_id} = ") else l
                     for l in source.split("\n")]
            cell["source"] = "\n".join(lines)
        elif cell["cell_type"] == "markdown" and meta.get("solution") and meta.get("grade"):
            level = "high" if trainee.theta > 0.7 else "mid" if trainee.theta > -0.5 else "low"
            cell["source"] = MANUAL_ANSWERS[level]
    return nb


def answer_marks(bank: Bank, answers: dict) -> dict[str, float]:
    """The autograder's marks for written answers: full points for an accepted answer, else 0."""
    return {it.grade_id: (it.points if answers.get(it.grade_id) in (it.accept or (it.key,)) else 0.0)
            for it in bank.items if it.auto}
