"""Free-text themes of the reaction survey: a small, transparent codebook for Japanese comments.

Each comment is coded by keyword: a theme is present when one of its keywords occurs in the comment
(several themes may be present). Its tone is *critical* (a problem is named), *request* (something is
asked for) or *positive*, from marker phrases; a comment with both a problem and a request counts as
critical. This is a first pass that makes hundreds of comments countable; it is not a substitute for
reading them, and the codebook is meant to grow as evaluators read real comments (add keywords here).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True)
class Theme:
    code: str
    ja: str
    en: str
    keywords: tuple[str, ...]
    action: str        # what to do when the theme comes up critically in a module


THEMES: tuple[Theme, ...] = (
    Theme("cases", "事例・演習", "cases and exercises", ("事例", "演習", "ケース", "ロールプレイ"),
          "Add or update case examples and exercises drawn from real counters."),
    Theme("terminology", "用語・難易度", "terminology and difficulty",
          ("専門用語", "用語", "難しい", "難解", "理解が追いつ"),
          "Add a glossary and plain explanations of the legal terms; check the pace."),
    Theme("workload", "分量・時間", "length and workload", ("長く", "長い", "短く", "時間", "分量", "負担", "並行", "両立"),
          "Shorten or split the videos; spread the module over more weeks."),
    Theme("partners", "関係機関・地域連携", "partner organisations and local links",
          ("関係機関", "連携", "地域", "つなぐ", "つなげ"),
          "Add local partner information (by prefecture) and how to contact each partner."),
    Theme("practice_fit", "実務との関連", "fit with counter work", ("実務", "窓口", "現場", "業務", "相談対応", "実際の"),
          "Check the content against current counter practice with working coordinators."),
    Theme("language", "言語・やさしい日本語", "languages and easy Japanese",
          ("やさしい日本語", "通訳", "多言語", "翻訳", "母語"),
          "Add examples of easy Japanese and of consultations through interpreters."),
    Theme("rules", "制度・期限", "rules and deadlines", ("制度", "期限", "法令", "手続", "改正"),
          "Update the rules to the latest revision and add deadline exercises."),
    Theme("platform", "運営・システム", "platform and logistics",
          ("動画が止", "途中で止", "再生", "音声", "ダウンロード", "ログイン", "研修サイト"),
          "Fix the training website (playback, downloads, login) with the contractor."),
)
CRITICAL = ("難しい", "難解", "長く感じ", "長すぎ", "合わない", "厳しかった", "追いつかな", "止まる", "にくかった",
            "すぎ", "使えない", "違うと感じ", "不足", "わかりにく", "分かりにく")
REQUEST = ("ほしい", "欲しい", "たい。", "たいと思", "もっと", "増やして", "してほしい")
POSITIVE = ("役に立", "役立", "良かった", "よかった", "わかりやす", "分かりやす", "整理でき", "使える", "参考にな",
            "学べた", "両立できた")
TONES = ("critical", "request", "positive", "neutral")


def theme(code: str) -> Theme:
    for t in THEMES:
        if t.code == code:
            return t
    raise KeyError(f"unknown theme {code!r}; known: {', '.join(t.code for t in THEMES)}")


def tone(comment: str) -> str:
    """critical, request, positive or neutral (in that order of precedence)."""
    for name, markers in (("critical", CRITICAL), ("request", REQUEST), ("positive", POSITIVE)):
        if any(m in comment for m in markers):
            return name
    return "neutral"


def code_comments(comments: Iterable[str]):
    """One row per comment: a boolean column per theme code and ``tone``. Blank comments get no
    theme and tone "" (they are not comments)."""
    import pandas as pd

    text = pd.Series(list(comments), dtype=object).fillna("").astype(str).str.strip()
    out = pd.DataFrame({t.code: text.str.contains("|".join(t.keywords), regex=True) & (text != "")
                        for t in THEMES})
    out["tone"] = [tone(c) if c else "" for c in text]
    return out


def theme_table(reaction, *, by: str = "module"):
    """Per group (default module) and theme: comments mentioning the theme, of which critical or
    requests (``negative``), and ``share`` = negative / the group's comments (percent); with the
    theme's Japanese ``label`` and suggested ``action``. Only rows with at least one mention."""
    import pandas as pd

    has = reaction["comment"].astype(str).str.strip() != ""
    sub = reaction.loc[has]
    coded = code_comments(sub["comment"])
    coded.index = sub.index
    negative = coded["tone"].isin(["critical", "request"])
    group = sub[by].astype(str)
    totals = group.value_counts()
    rows = []
    for t in THEMES:
        mentions = coded[t.code]
        if not mentions.any():
            continue
        per = pd.DataFrame({"mentions": mentions, "negative": mentions & negative}).groupby(group).sum()
        per = per[per["mentions"] > 0]
        for key, r in per.iterrows():
            rows.append({by: key, "theme": t.code, "label": t.ja, "mentions": int(r["mentions"]),
                         "negative": int(r["negative"]), "comments": int(totals[key]),
                         "share": 100 * r["negative"] / totals[key], "action": t.action})
    out = pd.DataFrame(rows, columns=[by, "theme", "label", "mentions", "negative", "comments", "share", "action"])
    return out.set_index([by, "theme"]).sort_index()
