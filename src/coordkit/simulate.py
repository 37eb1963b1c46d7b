"""A synthetic cohort: trainees, their submissions to every released assignment, and the survey and
pre-test data the evaluation reads. Everything here is fictional and generated from a seed.

Answers follow a simple item-response model: each trainee has a latent ability (theta), each item a
difficulty (b, from its bank); P(correct) = 1 / (1 + exp(-1.7 (theta - b))). Wrong answers are drawn
from the item's distractors, and a few are left blank or written in the wrong form, as real trainees do.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from .banks import Bank, Item
from .config import Settings
from .errors import CoordkitError, OutputError

# Weights follow the prefectures with the most foreign residents (end of 2024, curriculum §8.1)
# and a tail of other prefectures; they shape the synthetic cohort, nothing more.
PREFECTURES = {
    "東京都": 19.6, "大阪府": 8.9, "愛知県": 8.8, "神奈川県": 7.8, "埼玉県": 7.0, "千葉県": 5.5,
    "兵庫県": 3.5, "静岡県": 3.0, "福岡県": 2.9, "茨城県": 2.8, "群馬県": 2.0, "岐阜県": 1.8,
    "三重県": 1.8, "広島県": 1.6, "京都府": 1.6, "長野県": 1.0, "北海道": 1.4, "宮城県": 0.7,
}
ORG_TYPES = {  # who may train: counters run by national or local government, or commissioned by them
    "municipality": 0.45, "prefecture": 0.20, "designated_city": 0.15,
    "international_association": 0.15, "national_government": 0.05,
}
FIRST_LANGUAGES = {
    "日本語": 0.72, "ポルトガル語": 0.06, "中国語": 0.06, "ベトナム語": 0.04, "英語": 0.04,
    "スペイン語": 0.03, "タガログ語": 0.02, "韓国語": 0.02, "ネパール語": 0.01,
}
COMMENTS = {
    "high": ["事例が具体的で、窓口ですぐに使える内容だった。", "関係機関の役割が整理できた。",
             "期限の計算の練習が役に立った。", "やさしい日本語の例をもっと見たい。"],
    "mid": ["内容は良いが、動画が長く感じた。", "制度の説明が多く、事例をもう少し増やしてほしい。",
            "用語が難しい部分があった。"],
    "low": ["実際の窓口の状況と合わない部分があった。", "専門用語が多く、理解が追いつかなかった。",
            "自分の地域の連携先の情報がほしい。"],
}
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
    files: dict[str, Path] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"cohort": self.cohort, "trainees": len(self.trainees), "submissions_written": self.written,
                "submissions_unchanged": self.unchanged, "files": {k: str(v) for k, v in self.files.items()}}


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
        theta = float(rng.normal(0.0, 1.0) + 0.25 * math.log(years))
        trainees.append(Trainee(trainee_id=f"tr{i:03d}", prefecture=_choice(rng, PREFECTURES),
                                org_type=_choice(rng, ORG_TYPES), years_experience=years,
                                first_language=_choice(rng, FIRST_LANGUAGES), theta=round(theta, 3)))
    return trainees


def p_correct(theta: float, difficulty: float) -> float:
    return 1.0 / (1.0 + math.exp(-1.7 * (theta - difficulty)))


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


def fill_submission(released: dict, bank: Bank, trainee: Trainee, rng: np.random.Generator) -> dict:
    """A copy of the released notebook with this trainee's answers written in."""
    nb = json.loads(json.dumps(released))
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        gid = meta.get("grade_id", "")
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "code" and meta.get("solution") and gid.endswith("_answer"):
            item = bank.item(gid[: -len("_answer")])
            value = simulated_answer(item, trainee.theta, rng)
            lines = [f"{item.grade_id} = {_literal(value)}" if l.startswith(f"{item.grade_id} = ") else l
                     for l in source.split("\n")]
            cell["source"] = "\n".join(lines)
        elif cell["cell_type"] == "markdown" and meta.get("solution") and meta.get("grade"):
            level = "high" if trainee.theta > 0.7 else "mid" if trainee.theta > -0.5 else "low"
            cell["source"] = MANUAL_ANSWERS[level]
    return nb


def _write_if_changed(path: Path, text: str) -> bool:
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def write_tables(trainees: list[Trainee], out_dir: Path, *, seed: int, modules: list[str]) -> dict[str, Path]:
    """trainees.csv, pretest.csv and reaction.csv for the evaluation (see the data dictionary)."""
    import pandas as pd

    rng = np.random.default_rng(seed + 1)
    out_dir.mkdir(parents=True, exist_ok=True)
    people = pd.DataFrame([{k: v for k, v in t.__dict__.items() if k != "theta"} for t in trainees])
    pre = pd.DataFrame({
        "trainee_id": [t.trainee_id for t in trainees],
        "pre_score": [round(float(np.clip(100 * p_correct(t.theta, 0.9) + rng.normal(0, 8), 0, 100)), 1)
                      for t in trainees],
        "max_score": 100,
    })
    reaction = []
    for t in trainees:
        for module in modules:
            mood = float(np.clip(rng.normal(3.9 + 0.25 * t.theta, 0.7), 1, 5))
            level = "high" if mood >= 4.2 else "mid" if mood >= 3.2 else "low"
            reaction.append({
                "trainee_id": t.trainee_id, "module": module,
                "satisfaction": int(round(mood)),
                "relevance": int(np.clip(round(mood + rng.normal(0.2, 0.6)), 1, 5)),
                "recommend": int(np.clip(round(2 * mood + rng.normal(0, 1.2)), 0, 10)),
                "comment": COMMENTS[level][int(rng.integers(len(COMMENTS[level])))] if rng.random() < 0.4 else "",
            })
    files = {"trainees": out_dir / "trainees.csv", "pretest": out_dir / "pretest.csv",
             "reaction": out_dir / "reaction.csv"}
    for name, frame in (("trainees", people), ("pretest", pre), ("reaction", pd.DataFrame(reaction))):
        _write_if_changed(files[name], frame.to_csv(index=False, lineterminator="\n"))
    return files


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


def simulate_cohort(banks: Iterable[Bank], *, settings: Settings, trainees: int, seed: int,
                    cohort: str | None = None, tick: Callable[[], None] | None = None) -> SimulationResult:
    """Generate a cohort and place its submissions where nbgrader expects them:
    assignments/submitted/<trainee>/<assignment>/<notebook>.ipynb (+ timestamp.txt)."""
    cohort = cohort or settings.default_cohort
    people = make_trainees(trainees, seed=seed)
    banks = list(banks)
    out_dir = settings.cohorts_dir / cohort
    result = SimulationResult(cohort=cohort, out_dir=out_dir, trainees=people)
    try:
        _remove_stale(settings, {t.trainee_id for t in people})
        for b_index, bank in enumerate(banks):
            released_path = settings.course_root / "release" / bank.id / f"{bank.id}.ipynb"
            if not released_path.is_file():
                raise CoordkitError(f"{bank.id} is not released yet ({released_path} missing); "
                                    f"run `coordkit release {bank.id}` first")
            released = json.loads(released_path.read_text(encoding="utf-8"))
            due = dt.datetime(2025, 1, 20, 9, 0) + dt.timedelta(days=14 * b_index)
            for t_index, trainee in enumerate(people):
                rng = np.random.default_rng([seed, b_index, t_index])
                nb = fill_submission(released, bank, trainee, rng)
                folder = settings.course_root / "submitted" / trainee.trainee_id / bank.id
                text = json.dumps(nb, ensure_ascii=False, indent=1) + "\n"
                changed = _write_if_changed(folder / f"{bank.id}.ipynb", text)
                stamp = due - dt.timedelta(hours=float(rng.uniform(1, 240)))
                changed |= _write_if_changed(folder / "timestamp.txt", stamp.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
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
        modules = sorted({u for b in banks for u in b.units})
        result.files = write_tables(people, out_dir, seed=seed, modules=modules)
    except PermissionError as exc:
        raise OutputError(f"cannot write {exc.filename}; check the folder's permissions") from None
    return result
