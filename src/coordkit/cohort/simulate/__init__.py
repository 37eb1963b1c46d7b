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
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from ...banks import Bank, Item
from ...config import Settings
from ...errors import CoordkitError, OutputError
from ...rule import DEFAULT_PASS_PERCENT, gate_pass_marks
from ...vocab import GATES

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


@dataclass
class SimulationResult:
    cohort: str
    out_dir: Path
    trainees: list[Trainee]
    written: int = 0
    unchanged: int = 0
    skipped: int = 0
    files: dict[str, Path] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    submissions: set[tuple[str, str]] = field(default_factory=set)   # (trainee_id, assignment) written

    def to_dict(self) -> dict:
        return {"cohort": self.cohort, "trainees": len(self.trainees), "submissions_written": self.written,
                "submissions_unchanged": self.unchanged, "not_reached": self.skipped,
                "tables": {k: {"file": str(v), "rows": self.rows.get(k, 0)} for k, v in self.files.items()}}


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


# --------------------------------------------------------------------------------------------
# the tables, vectorised
# --------------------------------------------------------------------------------------------

def trainee_frame(people: Sequence[Trainee], *, seed: int):
    """The trainees with their latent traits: theta (ability at the end of the training), gain (what
    the training adds, logit scale), theta_pre (= theta - gain) and leniency (survey answer style)."""
    import pandas as pd

    rng = np.random.default_rng([seed, 11])
    frame = pd.DataFrame([t.__dict__ for t in people])
    n = len(frame)
    frame["gain"] = np.clip(rng.normal(0.9, 0.3, n), 0.1, None)
    frame["theta_pre"] = frame["theta"] - frame["gain"]
    frame["leniency"] = rng.normal(0.0, 0.35, n)
    return frame


def module_effects(modules: Sequence[str], *, seed: int):
    """Each module's hidden quality (added to the survey mood) and the theme of its recurring
    complaint. Seeded: the same modules and seed give the same effects."""
    import pandas as pd

    from ...themes import THEMES

    rng = np.random.default_rng([seed, 55])
    effect = rng.normal(0.0, 0.3, len(modules))
    if len(modules) >= 3:                               # at least one clearly weaker module
        effect[int(np.argmin(effect))] -= 0.4
    problem = [THEMES[int(i)].code for i in rng.integers(len(THEMES), size=len(modules))]
    return pd.DataFrame({"effect": effect, "problem_theme": problem}, index=pd.Index(list(modules), name="module"))


def _day_offsets(rng, n, low: dt.date, high: dt.date):
    return np.datetime64(low) + rng.integers(0, (high - low).days + 1, n).astype("timedelta64[D]")


def _gate_percent_model(theta, rng):
    """Percent on a gate test that has no bank yet (MODEL_TEST), drawn from the item-response model."""
    b = np.asarray(MODEL_TEST, dtype=float)
    correct = rng.random((len(theta), len(b))) < p_correct(np.asarray(theta)[:, None], b[None, :])
    return 100 * correct.mean(axis=1)


def model_marks(bank: Bank, theta, *, rng):
    """Autograded marks drawn from the item-response model (trainees x auto items, in points): the
    marks nbgrader would give, without writing notebooks (tests and the benchmark)."""
    items = [it for it in bank.items if it.auto]
    b = np.array([it.difficulty for it in items])
    pts = np.array([it.points for it in items])
    correct = rng.random((len(theta), len(items))) < p_correct(np.asarray(theta)[:, None], b[None, :])
    return correct * pts[None, :], [it.grade_id for it in items]


def _criteria(bank: Bank, item: Item) -> list[tuple[str, np.ndarray]]:
    """A written item's rubric criteria with their level points (one 0..points criterion without a rubric)."""
    if bank.rubric is not None and item.grade_id in bank.rubric.cells:
        return [(c.id, np.array([lv.points for lv in c.levels])) for c in bank.rubric.cell(item.grade_id).criteria]
    return [("overall", np.arange(0, int(item.points) + 1, dtype=float))]


def rubric_marks(bank: Bank, ids, theta, *, rng, raters: int, severity):
    """Rubric marks of the written answers of `bank` for the trainees `ids` (abilities `theta`): one
    rater each, a second one for DOUBLE_MARK_SHARE of the submissions (at least DOUBLE_MARK_MIN).
    Returns (rows of rubric_scores, {(trainee_id, grade_id): mark}) with mark = the mean of the
    raters' totals."""
    import pandas as pd

    ids = np.asarray(ids)
    n = len(ids)
    manual = [it for it in bank.items if not it.auto]
    if not manual or n == 0:
        return _empty_rubric(), {}
    first = rng.integers(raters, size=n)
    second = (first + 1 + rng.integers(raters - 1, size=n)) % raters
    k = min(n, max(DOUBLE_MARK_MIN, math.ceil(DOUBLE_MARK_SHARE * n)))
    double = np.zeros(n, bool)
    double[rng.choice(n, size=k, replace=False)] = True
    frames, marks = [], {}
    for item in manual:
        totals = np.zeros((n, 2))
        for crit, levels in _criteria(bank, item):
            true = 1.1 * np.asarray(theta) + rng.normal(0, 0.4) + rng.normal(0, 0.35, n)
            cuts = np.linspace(-0.9, 0.9, len(levels) - 1)
            for j, who in enumerate((first, second)):
                seen = true + severity[who] + rng.normal(0, 0.45, n)
                pts = levels[np.searchsorted(cuts, seen)]
                totals[:, j] += pts
                keep = np.ones(n, bool) if j == 0 else double
                frames.append(pd.DataFrame({"trainee_id": ids[keep], "assignment": bank.id, "grade_id": item.grade_id,
                                            "criterion": crit, "rater_id": [f"rt{r + 1:02d}" for r in who[keep]],
                                            "points": pts[keep], "max_points": float(levels[-1])}))
        final = np.where(double, totals.mean(axis=1), totals[:, 0])
        marks.update({(t, item.grade_id): float(m) for t, m in zip(ids, final)})
    return pd.concat(frames, ignore_index=True), marks


def _bank_stage(bank: Bank) -> str:
    """The stage at which a bank is submitted: the gates by id, reports at the end of the practice,
    the renewal training never (RENEWAL_BANKS), case studies by everyone (in Training Program 1)."""
    if bank.id in GATES:
        return bank.id
    if bank.id in RENEWAL_BANKS:
        return "renewal"
    return "practice" if bank.kind == "report" else "tp1"


SubmitFn = Callable[[Bank, Sequence[str]], dict[str, dict[str, float]]]


def generate_cohort(people: Sequence[Trainee], *, seed: int, banks: Sequence[Bank] = (),
                    modules: Sequence[str] = (), consultations: int | None = None,
                    pass_mark: float | Mapping[str, Any] | None = None, submit: SubmitFn | None = None) -> dict:
    """Every table of a cohort as DataFrames (trainees, enrolment, rubric_scores, pretest, reaction,
    followup, consultations, roster), consistent with each other and driven by the same latent
    ability.

    ``submit(bank, trainee_ids)`` writes the submissions of a bank for the trainees who reached it
    and returns their autograded marks {trainee_id: {grade_id: points}} (`simulate_cohort` writes
    nbgrader notebooks this way). Without it the marks are drawn from the item-response model and a
    ``scores`` table in the gradebook-export schema is returned too. A gate without a bank is
    decided on a model test. ``consultations``: number of records (default
    CONSULTATIONS_PER_TRAINEE per trainee). ``pass_mark``: as `coordkit.rule.gate_pass_marks` takes it
    (None: the rule's defaults; a number: every gate; a mapping: [tool.coordkit.certification]).
    """
    import pandas as pd

    marks = gate_pass_marks(pass_mark)

    people = list(people)
    frame = trainee_frame(people, seed=seed)
    n = len(frame)
    ids = frame["trainee_id"].to_numpy()
    theta = frame["theta"].to_numpy()
    rng = np.random.default_rng([seed, 23])
    raters = max(4, math.ceil(n / 15))
    severity = rng.normal(0.0, 0.3, raters)
    by_stage: dict[str, list[Bank]] = {}
    for bank in banks:
        by_stage.setdefault(_bank_stage(bank), []).append(bank)
    rubric_frames, score_rows = [], []

    def sit(bank: Bank, mask) -> np.ndarray:
        """Submit `bank` for the trainees in `mask`; their percent of the bank's maximum."""
        who = ids[mask]
        if submit is not None:
            got = submit(bank, list(who))
            auto = {t: got.get(t, {}) for t in who}
        else:
            pts, gids = model_marks(bank, theta[mask], rng=rng)
            auto = {t: dict(zip(gids, row)) for t, row in zip(who, pts)}
            for t, marks in auto.items():
                score_rows.extend((t, bank.id, gid, "auto", float(v)) for gid, v in marks.items())
        rows, manual = rubric_marks(bank, who, theta[mask], rng=rng, raters=raters, severity=severity)
        rubric_frames.append(rows)
        written = dict.fromkeys(who, 0.0)
        for (t, gid), mark in manual.items():
            written[t] += mark
            if submit is None:
                score_rows.append((t, bank.id, gid, "manual", 0.0))   # as nbgrader exports it
        total = np.array([sum(auto[t].values()) + written[t] for t in who])
        return 100 * total / max(bank.max_total, 1e-9)

    def gate(name: str, mask) -> np.ndarray:
        """Who of `mask` passes the gate test `name` (a model test when it has no bank yet)."""
        percent = np.full(n, np.nan)
        test = by_stage.get(name)
        percent[mask] = sit(test[0], mask) if test else _gate_percent_model(theta[mask], rng)
        return mask & (percent >= marks[name])

    everyone = np.ones(n, bool)
    for bank in by_stage.get("tp1", []):
        sit(bank, everyone)
    u = rng.random((n, 3))
    tp1_done = u[:, 0] >= _sigmoid(-3.6 - 0.5 * theta)
    check_ok = gate("tp1_check", tp1_done)
    practice_ok = check_ok & (u[:, 1] >= _sigmoid(-3.4 - 0.3 * theta))
    practice_failed = np.zeros(n, bool)          # the practice report was not accepted
    for bank in by_stage.get("practice", []):
        accepted = np.zeros(n, bool)
        accepted[practice_ok] = sit(bank, practice_ok) >= marks["practice_report"]
        practice_failed |= practice_ok & ~accepted
        practice_ok &= accepted
    tp2_ok = practice_ok & (u[:, 2] >= 0.02)
    completion_ok = gate("completion_test", tp2_ok)

    enrolment = _enrolment(ids, rng, tp1_done=tp1_done, check_ok=check_ok, practice_ok=practice_ok,
                           practice_failed=practice_failed, tp2_ok=tp2_ok, completion_ok=completion_ok)
    reached = {"tp1": tp1_done, "PRACTICE": practice_ok, "TP2": tp2_ok}
    tables = {
        "trainees": frame[["trainee_id", "prefecture", "org_type", "years_experience", "first_language"]].copy(),
        "enrolment": enrolment,
        "rubric_scores": pd.concat(rubric_frames, ignore_index=True) if rubric_frames else _empty_rubric(),
        "pretest": _pretest(frame, banks, rng),
        "reaction": _reaction(frame, modules, reached, seed=seed),
    }
    records = _consultations(frame, enrolment, rng,
                             consultations if consultations is not None else CONSULTATIONS_PER_TRAINEE * n)
    tables["consultations"] = records
    tables["followup"] = _followup(frame, enrolment, records, rng)
    tables["roster"] = _roster(seed=seed)
    if submit is None:
        max_points = {(b.id, it.grade_id): it.points for b in banks for it in b.items}
        scores = pd.DataFrame(score_rows, columns=["trainee_id", "assignment", "grade_id", "kind", "score"])
        scores.insert(2, "notebook", scores["assignment"])
        scores["max_score"] = [max_points[(a, g)] for a, g in zip(scores["assignment"], scores["grade_id"])]
        scores["needs_manual_grade"] = scores["kind"] == "manual"
        tables["scores"] = scores.sort_values(["assignment", "trainee_id", "grade_id"]).reset_index(drop=True)
    return tables


def _empty_rubric():
    import pandas as pd

    return pd.DataFrame(columns=["trainee_id", "assignment", "grade_id", "criterion", "rater_id", "points",
                                 "max_points"])


def _enrolment(ids, rng, *, tp1_done, check_ok, practice_ok, practice_failed, tp2_ok, completion_ok):
    import pandas as pd

    n = len(ids)
    t = {k: np.datetime64(v) for k, v in TIMELINE.items()}
    tp1_date = np.where(tp1_done, _day_offsets(rng, n, TIMELINE["tp1_end"] - dt.timedelta(days=25), TIMELINE["tp1_end"]),
                        _day_offsets(rng, n, TIMELINE["enrolled"] + dt.timedelta(days=10),
                                     TIMELINE["tp1_end"] - dt.timedelta(days=5)))
    practice_date = np.where(practice_ok | practice_failed, t["practice_end"],
                             _day_offsets(rng, n, TIMELINE["tp1_check"] + dt.timedelta(days=10),
                                          TIMELINE["practice_end"] - dt.timedelta(days=10)))
    everyone = np.ones(n, bool)
    stages = [  # stage, who reached it, status, date
        ("enrolled", everyone, np.full(n, "enrolled"), np.full(n, t["enrolled"])),
        ("tp1", everyone, np.where(tp1_done, "completed", "withdrawn"), tp1_date),
        ("tp1_check", tp1_done, np.where(check_ok, "passed", "failed"), np.full(n, t["tp1_check"])),
        ("practice", check_ok, np.where(practice_ok, "completed", np.where(practice_failed, "failed", "withdrawn")),
         practice_date),
        ("tp2", practice_ok, np.where(tp2_ok, "attended", "absent"), np.full(n, t["tp2"])),
        ("completion_test", tp2_ok, np.where(completion_ok, "passed", "failed"), np.full(n, t["completion_test"])),
        ("certified", completion_ok, np.full(n, "certified"), np.full(n, t["certified"])),
    ]
    frames = []
    for order, (stage, reached, status, date) in enumerate(stages):
        frames.append(pd.DataFrame({"trainee_id": ids[reached], "stage": stage, "status": status[reached],
                                    "date": date[reached].astype("datetime64[s]"), "_o": order}))
    out = pd.concat(frames, ignore_index=True).sort_values(["trainee_id", "_o"], kind="stable")
    return out.drop(columns="_o").reset_index(drop=True)


def _pretest(frame, banks, rng):
    import pandas as pd

    test = next((b for b in banks if b.id == "completion_test"), None)
    b = [it.difficulty for it in test.items if it.auto] if test else MODEL_TEST
    expected = p_correct(frame["theta_pre"].to_numpy()[:, None], np.asarray(b, float)[None, :]).mean(axis=1)
    score = np.clip(100 * expected + rng.normal(0, 5, len(frame)), 0, 100).round(1)
    return pd.DataFrame({"trainee_id": frame["trainee_id"], "pre_score": score, "max_score": 100})


def _reaction(frame, modules, reached, *, seed: int):
    import pandas as pd

    from ...themes import THEMES

    modules = list(modules)
    if not modules:
        return pd.DataFrame(columns=["trainee_id", "module", "satisfaction", "relevance", "recommend", "comment"])
    rng = np.random.default_rng([seed, 77])
    effects = module_effects(modules, seed=seed)
    n, m = len(frame), len(modules)
    eligible = np.ones((n, m), bool)
    for j, module in enumerate(modules):
        key = "tp1" if module.startswith("TP1") else module
        if key in reached:
            eligible[:, j] = reached[key]
    # trainees who left during TP1 answered the modules they had reached
    left = ~reached["tp1"]
    tp1_cols = np.array([mod.startswith("TP1") for mod in modules])
    cut = (rng.random(n) * tp1_cols.sum()).astype(int)
    order = np.cumsum(tp1_cols) - 1
    eligible[left[:, None] & tp1_cols[None, :] & (order[None, :] < cut[:, None])] = True
    answered = eligible & (rng.random((n, m)) >= 0.05)
    ti, mj = np.nonzero(answered)
    k = len(ti)
    theta = frame["theta"].to_numpy()[ti]
    mood = 3.8 + 0.25 * theta + effects["effect"].to_numpy()[mj] + frame["leniency"].to_numpy()[ti] + rng.normal(0, 0.55, k)
    satisfaction = np.clip(np.round(mood), 1, 5).astype(int)
    relevance = np.clip(np.round(mood + rng.normal(0.1, 0.5, k)), 1, 5).astype(int)
    recommend = np.clip(np.round(2 * mood - 0.4 + rng.normal(0, 1.2, k)), 0, 10).astype(int)
    tones = np.where(mood >= 4.2, np.where(rng.random(k) < 0.8, "positive", "request"),
                     np.where(mood >= 3.2, rng.choice(["request", "critical", "positive"], k, p=[0.5, 0.25, 0.25]),
                              np.where(rng.random(k) < 0.7, "critical", "request")))
    codes = [t.code for t in THEMES]
    theme = np.array(codes)[rng.integers(len(codes), size=k)]
    weak = effects["effect"].to_numpy()[mj] < -0.2
    use_problem = weak & (tones != "positive") & (rng.random(k) < 0.7)
    theme = np.where(use_problem, effects["problem_theme"].to_numpy()[mj], theme)
    comments = np.full(k, "", dtype=object)
    has = rng.random(k) < 0.35
    pick = rng.random(k)
    for i in np.flatnonzero(has):
        bank = REACTION_COMMENTS[theme[i]]
        phrases = bank.get(tones[i]) or next(iter(bank.values()))
        comments[i] = phrases[int(pick[i] * len(phrases))]
    return pd.DataFrame({"trainee_id": frame["trainee_id"].to_numpy()[ti], "module": np.array(modules)[mj],
                         "satisfaction": satisfaction, "relevance": relevance, "recommend": recommend,
                         "comment": comments})


def _weighted_codes(rng, weights: dict, size: int):
    p = np.array(list(weights.values()), float)
    return rng.choice(len(p), size=size, p=p / p.sum())


def _consultations(frame, enrolment, rng, m: int):
    """`m` consultation records over the trainees' counters, from six months before enrolment to the
    follow-up survey. The handling trainee's ability at the date (theta_pre, plus the share of the
    gain reached by then) sets the odds of connecting the consultation to a solution and its speed."""
    import pandas as pd

    from .. import trainee_milestones

    n = len(frame)
    start = np.datetime64(TIMELINE["enrolled"]) - np.timedelta64(RECORDS_BEFORE_DAYS, "D")
    end = np.datetime64(TIMELINE["certified"]) + np.timedelta64(FOLLOWUP_AFTER_DAYS, "D")
    span = int((end - start).astype(int))
    volume = rng.lognormal(0.0, 0.6, n)
    who = rng.choice(n, size=m, p=volume / volume.sum())
    day = start + rng.integers(0, span, m).astype("timedelta64[D]")
    topic_code = _weighted_codes(rng, TOPIC_WEIGHTS, m)
    topic = np.array(list(TOPIC_WEIGHTS), dtype=object)[topic_code]
    language = np.array(list(CONSULTATION_LANGUAGES), dtype=object)[_weighted_codes(rng, CONSULTATION_LANGUAGES, m)]
    issues = rng.choice([1, 2, 3, 4, 5], size=m, p=[0.52, 0.28, 0.12, 0.06, 0.02])

    ms = trainee_milestones(enrolment).reindex(frame["trainee_id"])
    enrolled = ms["enrolled"].to_numpy(dtype="datetime64[D]")
    exit_ = ms["exit"].to_numpy(dtype="datetime64[D]")
    reached_share = (enrolment.groupby("trainee_id").size().reindex(frame["trainee_id"]).to_numpy() - 1) / 6
    length = np.maximum((exit_ - enrolled).astype(int), 1)
    progress = np.clip((day - enrolled[who]).astype(int) / length[who], 0, 1) * reached_share[who]
    skill = frame["theta_pre"].to_numpy()[who] + frame["gain"].to_numpy()[who] * progress

    p_unresolved = _sigmoid(-1.5 - 0.9 * skill + 0.45 * (issues - 1))
    bias = np.array([REFER_BIAS[k] for k in TOPIC_WEIGHTS])[topic_code]
    p_refer = _sigmoid(bias + 0.55 * (issues - 1) + 0.25 * skill)
    u = rng.random((m, 2))
    outcome = np.where(u[:, 0] < p_unresolved, "unresolved", np.where(u[:, 1] < p_refer, "referred", "resolved"))
    base = np.array([BASE_DAYS[k] for k in TOPIC_WEIGHTS], dtype=float)[topic_code]
    days = base * np.exp(0.3 * (issues - 1) - 0.3 * skill + rng.normal(0, 0.5, m))
    days = np.round(np.where(outcome == "referred", 0.5 * days, days)).astype(np.int64)
    pending = (outcome != "unresolved") & (day + days.astype("timedelta64[D]") > end)
    outcome = np.where(pending, "pending", outcome)
    closed = np.isin(outcome, ["resolved", "referred"])
    partner = np.full(m, "", dtype=object)
    referred = np.flatnonzero(outcome == "referred")
    pick = rng.random(len(referred))
    for code, key in enumerate(TOPIC_WEIGHTS):
        sel = referred[topic_code[referred] == code]
        options = np.array(PARTNERS[key], dtype=object)
        partner[sel] = options[(pick[np.searchsorted(referred, sel)] * len(options)).astype(int)]
    order = np.argsort(day, kind="stable")
    out = pd.DataFrame({
        "consultation_id": pd.Series(np.arange(1, m + 1)).astype(str).str.zfill(7).radd("c").to_numpy(),
        "trainee_id": frame["trainee_id"].to_numpy()[who][order],
        "date": day[order].astype("datetime64[s]"),
        "topic": topic[order], "language": language[order], "issues": issues[order], "outcome": outcome[order],
        "referred_to": partner[order],
        "days_to_resolution": pd.array(np.where(closed, days, 0)[order], dtype="Int64"),
    })
    out.loc[~closed[order], "days_to_resolution"] = pd.NA
    return out


def _followup(frame, enrolment, records, rng):
    import pandas as pd

    certified = enrolment.loc[enrolment["stage"] == "certified", "trainee_id"].to_numpy()
    f = frame.set_index("trainee_id").loc[certified]
    respond = rng.random(len(f)) < _sigmoid(1.4 + 0.5 * f["leniency"].to_numpy())
    f = f[respond]
    k = len(f)
    when = (np.datetime64(TIMELINE["certified"]) + np.timedelta64(FOLLOWUP_AFTER_DAYS, "D")
            + rng.integers(0, 21, k).astype("timedelta64[D]"))
    surveyed = pd.Series(when.astype("datetime64[s]"), index=f.index)
    rec = records[records["trainee_id"].isin(f.index)]
    answer = surveyed.reindex(rec["trainee_id"]).to_numpy()
    window = (rec["date"].to_numpy() <= answer) & (rec["date"].to_numpy() > answer - np.timedelta64(183, "D"))
    sub = rec.loc[window]
    handled = sub.groupby("trainee_id").size().reindex(f.index).fillna(0).to_numpy()
    referred = (sub["outcome"] == "referred").groupby(sub["trainee_id"]).sum().reindex(f.index).fillna(0).to_numpy()
    theta = f["theta"].to_numpy()
    lean = f["leniency"].to_numpy()
    out = pd.DataFrame({"trainee_id": f.index.to_numpy(), "surveyed_on": when.astype("datetime64[s]"),
                        "consultations_handled": np.round(handled * rng.lognormal(0.08, 0.2, k)).astype(int),
                        "referrals_made": np.round(referred * rng.lognormal(0.05, 0.25, k)).astype(int),
                        "preventive_sessions": rng.poisson(0.8 + 0.6 * np.clip(theta, 0, None))})
    for col, shift in zip(("uses_c1", "uses_c2", "uses_c3", "uses_c4"), (0.6, -0.1, 0.2, 0.4)):
        out[col] = np.clip(np.round(3.2 + shift + 0.45 * theta + 0.3 * lean + rng.normal(0, 0.7, k)), 1, 5).astype(int)
    text = np.array(FOLLOWUP_COMMENTS, dtype=object)[rng.integers(len(FOLLOWUP_COMMENTS), size=k)]
    out["comment"] = np.where(rng.random(k) < 0.4, text, "")
    return out.sort_values("trainee_id").reset_index(drop=True)


def _roster(*, seed: int):
    """Lecturers per role and fiscal year: a pool recruited (and pre-trained) each year, with some
    leaving; available days per year drawn per lecturer (ASSUMPTIONS, for the capacity plan)."""
    import pandas as pd

    rng = np.random.default_rng([seed, 91])
    plan = {  # role: (lecturers in FY2025, recruited per year, available days range)
        "tp2_facilitator": (8, 3, (4, 10)), "practice_supervisor": (22, 6, (8, 20)), "rater": (5, 2, (6, 15)),
    }
    rows, next_id = [], 1
    for role, (start, per_year, (low, high)) in plan.items():
        active: list[tuple[str, float]] = []
        for year in ROSTER_YEARS:
            active = [(lid, days) for lid, days in active if rng.random() >= 0.1]
            for _ in range(start if year == ROSTER_YEARS[0] else per_year):
                active.append((f"lec{next_id:03d}", float(rng.integers(low, high + 1))))
                next_id += 1
            rows += [{"lecturer_id": lid, "role": role, "fiscal_year": year, "available_days": days}
                     for lid, days in active]
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# writing a cohort
# --------------------------------------------------------------------------------------------

def _write_if_changed(path: Path, text: str) -> bool:
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


TABLE_FILES = ("trainees", "enrolment", "rubric_scores", "pretest", "reaction", "followup", "consultations", "roster")


def write_tables(tables: dict, out_dir: Path) -> dict[str, Path]:
    """Write the tables of `generate_cohort` as UTF-8 CSV (dates YYYY-MM-DD) to `out_dir`; a file
    whose content is unchanged is not touched. scores.csv is not written here: it comes from the
    gradebook (`coordkit export`)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {}
    for name in TABLE_FILES:
        files[name] = out_dir / f"{name}.csv"
        _write_if_changed(files[name], tables[name].to_csv(index=False, lineterminator="\n", date_format="%Y-%m-%d"))
    return files


def survey_modules(settings: Settings, banks: Iterable[Bank]) -> list[str]:
    """The modules of the reaction survey: the syllabus units taught (the 15 TP1 subjects, the
    practice and Training Program 2) from book/syllabus.yml, or the banks' units without it."""
    path = settings.syllabus
    if path is not None and path.is_file():
        from ...syllabus import load_syllabus

        return [u.code for u in load_syllabus(path) if u.kind in ("subject", "practice", "group_training")]
    return sorted({u for b in banks for u in b.units})


MARKER = ".coordkit-simulated"


def _remove_stale(settings: Settings, keep: set[str]) -> int:
    """Remove simulated trainees of an earlier, larger run (only folders this module marked)."""
    removed = 0
    submitted = settings.course_root / "submitted"
    if not submitted.is_dir():
        return 0
    for folder in submitted.iterdir():
        if folder.name in keep or not (folder / MARKER).is_file():
            continue
        for stage in ("submitted", "autograded", "feedback"):
            shutil.rmtree(settings.course_root / stage / folder.name, ignore_errors=True)
        removed += 1
    return removed


def _refuse_real_submissions(settings: Settings) -> None:
    """Simulation writes only into a course whose every submission folder it made itself (each holds
    the marker it writes): a folder without the marker is a real trainee's work, never overwritten."""
    submitted = settings.course_root / "submitted"
    if not submitted.is_dir():
        return
    real = sorted(p.name for p in submitted.iterdir() if p.is_dir() and not (p / MARKER).is_file())
    if real:
        shown = ", ".join(real[:3]) + (f" and {len(real) - 3} more" if len(real) > 3 else "")
        raise CoordkitError(f"{submitted} holds real submissions ({shown}: no {MARKER} marker); `coordkit "
                            "simulate` never writes into a course with real submissions: simulate into a "
                            "scratch checkout (coordkit --root <copy> simulate) or another course_root")


def simulate_cohort(banks: Iterable[Bank], *, settings: Settings, trainees: int, seed: int,
                    cohort: str | None = None, tick: Callable[[], None] | None = None,
                    consultations: int | None = None, modules: Sequence[str] | None = None,
                    pass_mark: float | Mapping[str, Any] | None = None) -> SimulationResult:
    """Generate a cohort: its submissions where nbgrader expects them
    (assignments/submitted/<trainee>/<assignment>/<notebook>.ipynb + timestamp.txt) and its tables in
    datasets/cohorts/<cohort>/ (see `generate_cohort`). Case studies are submitted by every trainee;
    a test or report only by the trainees who reached it (an earlier run's submission of a trainee who
    no longer reaches it is removed). `tick` is called once per trainee and bank."""
    cohort = cohort or settings.default_cohort
    _refuse_real_submissions(settings)
    people = make_trainees(trainees, seed=seed)
    banks = list(banks)
    if consultations is not None and consultations < 0:
        raise CoordkitError(f"the number of consultation records cannot be negative (got {consultations})")
    out_dir = settings.cohorts_dir / cohort
    result = SimulationResult(cohort=cohort, out_dir=out_dir, trainees=people)
    released = {}
    for bank in banks:
        path = settings.course_root / "release" / bank.id / f"{bank.id}.ipynb"
        if not path.is_file():
            raise CoordkitError(f"{bank.id} is not released yet ({path} missing); run `coordkit release {bank.id}` first")
        released[bank.id] = json.loads(path.read_text(encoding="utf-8"))
    index = {t.trainee_id: i for i, t in enumerate(people)}
    stage_day = {"tp1_check": TIMELINE["tp1_check"], "completion_test": TIMELINE["completion_test"],
                 "practice": TIMELINE["practice_end"]}

    def submit(bank: Bank, ids: Sequence[str]) -> dict[str, dict[str, float]]:
        b_index = banks.index(bank)
        stage = _bank_stage(bank)
        day = stage_day.get(stage, TIMELINE["enrolled"] + dt.timedelta(days=21 * (b_index + 1)))
        due = dt.datetime.combine(day, dt.time(9, 0))
        chosen, marks = set(ids), {}
        for trainee in people:
            folder = settings.course_root / "submitted" / trainee.trainee_id / bank.id
            if trainee.trainee_id not in chosen:
                if folder.is_dir():
                    for where in ("submitted", "autograded", "feedback"):
                        shutil.rmtree(settings.course_root / where / trainee.trainee_id / bank.id, ignore_errors=True)
                result.skipped += 1
            else:
                rng = np.random.default_rng([seed, b_index, index[trainee.trainee_id]])
                answers: dict = {}
                nb = fill_submission(released[bank.id], bank, trainee, rng, record=answers)
                marks[trainee.trainee_id] = answer_marks(bank, answers)
                text = json.dumps(nb, ensure_ascii=False, indent=1) + "\n"
                folder.mkdir(parents=True, exist_ok=True)
                (folder.parent / MARKER).touch()          # before any file: the folder is simulated
                changed = _write_if_changed(folder / f"{bank.id}.ipynb", text)
                stamp = due - dt.timedelta(hours=float(rng.uniform(1, 240)))
                changed |= _write_if_changed(folder / "timestamp.txt", stamp.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
                result.submissions.add((trainee.trainee_id, bank.id))
                if changed:
                    (folder.parent / MARKER).touch()
                    # a changed submission is graded again: nbgrader only compares timestamps
                    shutil.rmtree(settings.course_root / "autograded" / trainee.trainee_id / bank.id,
                                  ignore_errors=True)
                    result.written += 1
                else:
                    result.unchanged += 1
            if tick:
                tick()
        return marks

    try:
        _remove_stale(settings, set(index))
        tables = generate_cohort(people, seed=seed, banks=banks,
                                 modules=modules if modules is not None else survey_modules(settings, banks),
                                 consultations=consultations, submit=submit,
                                 pass_mark=settings.certification if pass_mark is None else pass_mark)
        for bank in banks:
            if _bank_stage(bank) == "renewal":
                submit(bank, [])             # not submitted; an earlier run's submissions are removed
        result.files = write_tables(tables, out_dir)
        result.rows = {name: len(tables[name]) for name in TABLE_FILES}
    except PermissionError as exc:
        raise OutputError(f"cannot write {exc.filename}; check the folder's permissions") from None
    return result
