"""A checker for easy Japanese (やさしい日本語) as residence support writes it.

The rules follow the published guideline of the Immigration Services Agency and the Agency for
Cultural Affairs, 「在留支援のためのやさしい日本語ガイドライン」 (2020): short sentences with one idea
each, spaces between phrases (分かち書き) and readings for kanji in writing, everyday words instead of
administrative ones, no honorific or passive forms and no double negatives, concrete dates and places.
Each rule is a function of one sentence; a sentence is cut at 。！？ and at line ends.

The checker runs on janome, a Japanese tokenizer written in Python that carries its own dictionary
(IPADIC), so it installs from one wheel and works offline.

Notation of readings (ふりがな) in plain text, used by the glossary, the model answers and the book:
the reading, in hiragana, in full-width brackets right after the run of kanji it reads::

    在留（ざいりゅう） カードを 見（み）せて ください。

- Okurigana stay outside the brackets: 見（み）せて, not 見せ（みせ）て.
- A counter right after a digit needs no reading: 14日, 3か月, 2026年, 500円, 10時.
- Half-width brackets 漢字(かんじ) are read the same way; write full-width.

Limits (the guideline gives no number; these are this course's): at most MAX_CHARS characters per
sentence, not counting spaces and readings; one clause, i.e. no conjunctive particle (て, が, ので, けど,
から, ながら, ...), no conditional (たら, なら, ば, と) and no 連用中止 (書き、...), and at most
MAX_PREDICATES predicates (verbs and adjectives that carry meaning) in one sentence.

Library: `check(text)` returns a list of Finding; `plain(text)` removes readings and spaces;
`annotate(text)` adds spaces and readings (a first draft that a person checks: the tokenizer's reading
is the dictionary's most likely one). Command: `coordkit easyja check FILE` (or `-` for standard input).
"""

from __future__ import annotations

import functools
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import CoordkitError

MAX_CHARS = 30            # characters per sentence, without spaces and readings
MAX_PREDICATES = 2        # content verbs and adjectives per sentence (one main, one modifying)

RULES = ("length", "clauses", "spacing", "furigana", "difficult_word", "double_negative", "passive",
         "relative_date")

KANJI = "\u4e00-\u9fff\u3005\u3006\u30f6"            # CJK ideographs, 々, 〆, ヶ
_READING = re.compile(rf"([{KANJI}]+)[（(]([\u3041-\u3096\u30fc]+)[）)]")
_KANJI_RUN = re.compile(rf"[{KANJI}]+")
_SPACES = re.compile(r"[ \u3000\t]+")
_JAPANESE = re.compile(rf"[\u3041-\u3096\u30a1-\u30fa{KANJI}]")
_SENTENCE_END = re.compile(r"(?<=[。！？!?])")
# A counter right after a digit needs no reading.
_COUNTERS = ("か月", "ヶ月", "週間", "時間", "日間", "年間", "日", "月", "年", "円", "歳", "時", "分", "回", "人",
             "番", "枚", "階", "週", "号", "条")
_COUNTER_AFTER_DIGIT = re.compile(r"[0-9０-９][ \u3000]*(" + "|".join(_COUNTERS) + ")")
_CONCRETE_DAY = re.compile(r"[0-9０-９]+\s*月\s*[0-9０-９]+\s*日|[0-9０-９]+\s*日|[月火水木金土日]曜")

# Words the guideline asks to replace, with an easier way to say them. Matched in the text without
# readings and spaces. Terms a client must learn (在留カード, 転出届, 在留資格) are not here: they are
# kept and explained.
DIFFICULT_WORDS: dict[str, str] = {
    # honorific and humble forms (敬語): plain です・ます and ください instead
    "いただ": "〜して ください／〜します",
    "頂": "〜して ください／もらいます",
    "くださいませ": "ください",
    "おっしゃ": "言（い）います",
    "いらっしゃ": "います／来（き）ます",
    "申し上げ": "言（い）います",
    "申します": "言（い）います",
    "伺": "聞（き）きます／行（い）きます",
    "参ります": "行（い）きます／来（き）ます",
    "存じ": "知（し）って います",
    "承知": "わかりました",
    "ございます": "あります／です",
    "お越し": "来（き）て ください",
    # administrative Sino-Japanese words (漢語)
    "提出": "出（だ）します",
    "記入": "書（か）きます",
    "記載": "書（か）いて あります",
    "所定": "決（き）まった",
    "持参": "持（も）って 来（き）ます",
    "至急": "すぐに",
    "速やか": "すぐに",
    "直ちに": "すぐに",
    "要する": "いります",
    "該当": "あてはまる",
    "居住": "住（す）んで います",
    "所持": "持（も）って います",
    "返却": "返（かえ）します",
    "発令": "出（で）ました",
    "納付": "払（はら）います",
    "徴収": "集（あつ）めます",
    "支給": "もらえます",
    "受給": "もらいます",
    "交付": "わたします",
    "留意": "気（き）を つけます",
    "遵守": "守（まも）ります",
    "随時": "いつでも",
    "可能": "できます",
    "不可": "できません",
    "禁止": "しては いけません",
    "要件": "条件（じょうけん）",
    "各種": "いろいろな",
    "関係機関": "相談（そうだん）できる 場所（ばしょ）の 名前（なまえ）",
    "担当窓口": "窓口（まどぐち）の 名前（なまえ）",
    "当該": "この",
    "及び": "と",
    "並びに": "と",
    "若しくは": "か",
    "又は": "か",
    "ただし": "でも",
    # loanwords that are hard for people whose first language is not English (カタカナ外来語)
    "キャンセル": "やめます",
    "スケジュール": "予定（よてい）",
    "アポイント": "約束（やくそく）",
    "サポート": "手伝（てつだ）います",
    "アドバイス": "教（おし）えます",
    "ケース": "場合（ばあい）",
    "リスク": "危（あぶ）ない こと",
    "メリット": "いい こと",
    "デメリット": "よくない こと",
    "プライバシー": "ほかの 人（ひと）に 知（し）られたく ない こと",
    "シェルター": "安全（あんぜん）に 住（す）める 場所（ばしょ）",
    "チェック": "たしかめます",
    "コンタクト": "連絡（れんらく）",
    "ステータス": "在留資格（ざいりゅうしかく）",
    "フォロー": "あとで 聞（き）きます",
}
# Words a client must meet again are allowed when explained; the guideline keeps them. The checker
# lets these through even if a listed word is inside them.
ALLOWED_WORDS = ("手続き", "手続", "在留カード", "在留資格", "届出", "届け出", "等々")

RELATIVE_DATES = ("再来週", "来週", "今週", "先週", "来月", "今月", "先月", "来年", "明日", "あした", "あす",
                  "明後日", "あさって", "後日", "近日", "近いうち", "今度", "週明け", "月末", "年度末", "そのうち",
                  "後で", "あとで", "早めに")

_DOUBLE_NEGATIVE = re.compile(r"(なければ|なくては|なくちゃ|ないと|ねば)(なら|なり|いけ|だめ|ダメ)"
                              r"|ないこと[はも]ない|ないわけで[はも]ない|なくもない|ないではない")

MESSAGES = {
    "length": ("文が 長（なが）すぎます（{n}字（じ））。{max}字（じ）までに して ください。",
               "Sentence too long ({n} characters); keep it to {max}, not counting spaces and readings."),
    "clauses": ("一（ひと）つの 文（ぶん）に ことがらが 多（おお）すぎます（{what}）。文（ぶん）を 分（わ）けて ください。",
                "More than one clause ({what}); split it into one sentence per idea."),
    "spacing": ("文節（ぶんせつ）の 間（あいだ）に スペースが ありません（{what}）。",
                "No space between phrases (分かち書き) at: {what}."),
    "furigana": ("漢字（かんじ）に 読（よ）み方（かた）が ありません（{what}）。",
                 "Kanji without a reading: {what}; write 漢字（かんじ）."),
    "difficult_word": ("むずかしい ことばです（{what}）。",
                       "Difficult word: {what}; use an everyday word."),
    "double_negative": ("「〜ないと いけません」などの 二重否定（にじゅうひてい）です（{what}）。",
                        "Double negative ({what}); say what to do: 〜して ください."),
    "passive": ("受（う）け身（み）や 使役（しえき）の 形（かたち）です（{what}）。",
                "Passive, potential or causative form ({what}); say who does what, in the active voice."),
    "relative_date": ("日（ひ）にちが はっきり しません（{what}）。何月（なんがつ）何日（なんにち）かを 書（か）いて ください。",
                      "Relative date ({what}) without a date; write the month and day (and the weekday)."),
}


class EasyJapaneseError(CoordkitError):
    """The text to check cannot be read."""


@dataclass(frozen=True)
class Finding:
    sentence: str
    rule: str
    message_ja: str
    message_en: str
    suggestion: str = ""
    line: int = 0              # line of the sentence in the checked text (1-based; 0 if unknown)

    def to_dict(self) -> dict:
        return asdict(self)

    def one_line(self, source: str = "-") -> str:
        tip = f" -> {self.suggestion}" if self.suggestion else ""
        return f"{source}:{self.line}: {self.rule}: {self.message_en} | {self.message_ja} | 「{self.sentence}」{tip}"


@dataclass(frozen=True)
class _Token:
    surface: str
    pos: tuple[str, ...]        # part of speech, 4 levels
    infl_form: str
    base: str
    reading: str                # katakana, '*' if unknown
    start: int                  # offset in the plain text

    @property
    def major(self) -> str:
        return self.pos[0]

    @property
    def minor(self) -> str:
        return self.pos[1]


@functools.lru_cache(maxsize=1)
def _tokenizer():
    try:
        from janome.tokenizer import Tokenizer
    except ImportError:          # pragma: no cover - janome is pinned in requirements.txt
        raise EasyJapaneseError("the Japanese tokenizer janome is not installed; run `make venv` "
                                "(or pip install -r requirements.txt)") from None
    return Tokenizer()


def _tokens(text: str) -> list[_Token]:
    out, pos = [], 0
    for t in _tokenizer().tokenize(text):
        out.append(_Token(surface=t.surface, pos=tuple(t.part_of_speech.split(",")), infl_form=t.infl_form,
                          base=t.base_form, reading=t.reading, start=pos))
        pos += len(t.surface)
    return out


# --- the text without readings and spaces -----------------------------------------------------------

def _strip(text: str) -> tuple[str, list[bool]]:
    """The text without readings and spaces, and for each of its characters whether a space stood
    before it in the original."""
    text = _READING.sub(r"\1", text)
    chars, spaced, pending = [], [], False
    for ch in text:
        if ch in " \u3000\t":
            pending = True
            continue
        chars.append(ch)
        spaced.append(pending)
        pending = False
    return "".join(chars), spaced


def plain(text: str) -> str:
    """The text without readings and spaces: what a sentence's length is counted on."""
    return _strip(text)[0]


def sentences(text: str) -> list[tuple[int, str]]:
    """(line number, sentence) for every sentence with Japanese in it; Markdown list marks, bold and
    block quotes are taken off."""
    found = []
    for n, line in enumerate(text.splitlines(), start=1):
        line = re.sub(r"^\s*(?:[-*+>]|\d+[.)])\s+", "", line).replace("**", "").replace("`", "").strip()
        for part in _SENTENCE_END.split(line):
            part = part.strip()
            if part and _JAPANESE.search(part):
                found.append((n, part))
    return found


# --- the rules ---------------------------------------------------------------------------------------

_NON_LINK_AFTER_TE = {"いる", "ある", "おく", "しまう", "みる", "くる", "いく", "行く", "来る", "ください", "くださる", "ほしい",
                      "くれる", "もらう", "あげる"}


def _clause_links(toks: list[_Token]) -> list[str]:
    links = []
    for i, t in enumerate(toks):
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        after = toks[i + 2] if i + 2 < len(toks) else None
        if t.major == "助詞" and t.minor == "接続助詞":
            if t.surface in ("て", "で") and nxt is not None:
                if nxt.major in ("動詞", "形容詞") and (nxt.minor in ("非自立", "接尾") or nxt.base in _NON_LINK_AFTER_TE):
                    continue
                if nxt.surface == "も" and after is not None and after.base in ("いい", "よい", "かまう", "大丈夫"):
                    continue                       # してもいい: permission, one clause
                if nxt.surface in ("は", "も") and after is not None and after.base in ("いける", "だめ", "ダメ", "なる"):
                    continue                       # しては いけません: one clause
            if t.surface in ("ば", "と") and nxt is not None and nxt.base in ("なる", "いける", "だめ"):
                continue                           # double negative: reported by its own rule
            if t.surface == "ば" and i > 0 and toks[i - 1].base in ("いい", "よい"):
                continue                           # 〜すれば いいです: advice, one clause
            links.append(t.surface)
        elif t.major == "助動詞" and t.infl_form.startswith("仮定") and t.surface in ("たら", "だら", "なら"):
            links.append(t.surface)
        elif (t.major in ("動詞", "形容詞") or (t.major == "助動詞" and t.base == "だ")) \
                and t.infl_form.startswith("連用") and nxt is not None and nxt.surface == "、":
            links.append(t.surface + "、")      # 連用中止: 書き、/ 学生で、
    return links


def _predicates(toks: list[_Token]) -> list[str]:
    preds = []
    for i, t in enumerate(toks):
        prev = toks[i - 1] if i else None
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if t.major == "動詞" and t.infl_form.startswith("連用") and nxt is not None and nxt.major == "名詞" \
                and nxt.minor == "接尾":
            continue                               # 困りごと, 読み方: a noun, not a predicate
        if t.major == "動詞" and t.minor == "自立":
            if t.base in ("する", "できる") and prev is not None and prev.minor == "サ変接続":
                preds.append(prev.surface + t.surface)
            elif t.base == "ある" and prev is not None and prev.surface == "て":
                continue
            else:
                preds.append(t.surface)
        elif t.major == "形容詞" and t.minor == "自立":
            if t.base in ("いい", "よい") and i >= 2 and prev.surface == "も" and toks[i - 2].surface in ("て", "で"):
                continue                           # 〜しても いい: permission, not a second predicate
            preds.append(t.surface)
    return preds


def _starts_phrase(t: _Token, prev: _Token | None) -> bool:
    """Whether a phrase (文節) starts at token t."""
    if prev is None or prev.major == "記号" or t.major == "記号":
        return False
    if prev.major == "接頭詞":
        return False
    if t.major in ("助詞", "助動詞"):
        return False
    if t.major in ("動詞", "形容詞"):
        if t.minor in ("非自立", "接尾"):
            return False
        if t.base in ("する", "できる", "なる") and prev.major == "名詞" and prev.minor in ("サ変接続", "形容動詞語幹"):
            return False
        if t.base == "ある" and prev.surface == "て":
            return False
        return True
    if t.major == "名詞":
        if t.minor in ("非自立", "接尾", "代名詞") and prev.major != "助詞":
            return t.minor == "代名詞"
        if t.minor == "数" and prev.minor == "数":
            return False
        if prev.major == "名詞" and prev.minor != "副詞可能":
            return False                           # compound noun: 在留カード, 日本語教室
        return True
    return t.major in ("副詞", "連体詞", "接続詞", "感動詞", "接頭詞", "フィラー", "その他")


def _missing_spaces(stripped: str, spaced: list[bool], toks: list[_Token]) -> list[str]:
    missing = []
    for prev, t in zip([None, *toks], toks):
        if _starts_phrase(t, prev) and not spaced[t.start]:
            missing.append(f"{prev.surface}|{t.surface}")
    return missing


def _without_counters(text: str) -> str:
    return _COUNTER_AFTER_DIGIT.sub(lambda m: m.group(0)[: -len(m.group(1))] + "\u0000" * len(m.group(1)), text)


def _unread_kanji(sentence: str) -> list[str]:
    text = _without_counters(_SPACES.sub(" ", sentence))
    text = _READING.sub(lambda m: "\u0000" * len(m.group(0)), text)
    return _KANJI_RUN.findall(text)


def _difficult(stripped: str) -> list[str]:
    text = stripped
    for ok in ALLOWED_WORDS:
        text = text.replace(ok, "\u0000" * len(ok))
    return [w for w in DIFFICULT_WORDS if w in text]


def _passive(toks: list[_Token]) -> list[str]:
    found = []
    for i, t in enumerate(toks):
        if t.major == "動詞" and t.minor == "接尾" and t.base in ("れる", "られる", "せる", "させる"):
            verb = toks[i - 1].surface if i else ""
            found.append(verb + t.surface)
    return found


def _finding(sentence: str, rule: str, line: int, suggestion: str = "", **values) -> Finding:
    ja, en = MESSAGES[rule]
    values.setdefault("max", MAX_CHARS)
    return Finding(sentence=sentence, rule=rule, message_ja=ja.format(**values), message_en=en.format(**values),
                   suggestion=suggestion, line=line)


def check_sentence(sentence: str, *, line: int = 0) -> list[Finding]:
    """Every rule the sentence breaks, in the order of RULES."""
    stripped, spaced = _strip(sentence)
    toks = _tokens(stripped)
    found: list[Finding] = []
    n = len(stripped)
    if n > MAX_CHARS:
        found.append(_finding(sentence, "length", line, "文（ぶん）を 二（ふた）つに 分（わ）けます。", n=n))
    links, preds = _clause_links(toks), _predicates(toks)
    if links or len(preds) > MAX_PREDICATES:
        what = "・".join(links) if links else f"{len(preds)} predicates: {'・'.join(preds)}"
        found.append(_finding(sentence, "clauses", line, "「〜て、」「〜ので、」で つながず、文（ぶん）を 切（き）ります。",
                              what=what))
    missing = _missing_spaces(stripped, spaced, toks)
    if missing:
        found.append(_finding(sentence, "spacing", line, annotate(sentence), what=", ".join(missing)))
    unread = _unread_kanji(sentence)
    if unread:
        found.append(_finding(sentence, "furigana", line, annotate(sentence), what="・".join(unread)))
    hard = _difficult(stripped)
    if hard:
        found.append(_finding(sentence, "difficult_word", line,
                              "; ".join(f"{w} → {DIFFICULT_WORDS[w]}" for w in hard), what="・".join(hard)))
    neg = _DOUBLE_NEGATIVE.search(stripped)
    if neg:
        found.append(_finding(sentence, "double_negative", line, "「〜して ください」と 言（い）います。",
                              what=neg.group(0)))
    passive = _passive(toks)
    if passive:
        found.append(_finding(sentence, "passive", line, "「だれが 何（なに）を するか」の 形（かたち）に します。",
                              what="・".join(passive)))
    relative = [w for w in RELATIVE_DATES if w in stripped]
    if relative and not _CONCRETE_DAY.search(stripped):
        found.append(_finding(sentence, "relative_date", line, "例（れい）: 12月（がつ）14日（にち）（月曜日（げつようび））",
                              what="・".join(relative)))
    return found


def check(text: str) -> list[Finding]:
    """Every rule broken by every sentence of `text` (one Finding per sentence and rule)."""
    return [f for line, sentence in sentences(text) for f in check_sentence(sentence, line=line)]


def check_file(path: Path | str) -> list[Finding]:
    """check() over a UTF-8 text or Markdown file; `-` reads standard input."""
    import sys

    if str(path) == "-":
        return check(sys.stdin.read())
    path = Path(path)
    try:
        return check(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EasyJapaneseError(f"{path} not found; give a text file, or - to read standard input") from None
    except UnicodeDecodeError as exc:
        raise EasyJapaneseError(f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except IsADirectoryError:
        raise EasyJapaneseError(f"{path} is a folder; give one text file") from None


def count_by_rule(findings) -> dict[str, int]:
    """Findings per rule, every rule listed (0 where none)."""
    counts = dict.fromkeys(RULES, 0)
    for f in findings:
        counts[f.rule] += 1
    return counts


# --- a first draft of spaces and readings -------------------------------------------------------------

def _hira(katakana: str) -> str:
    return "".join(chr(ord(c) - 0x60) if "\u30a1" <= c <= "\u30f6" else c for c in katakana)


def _ruby_token(surface: str, reading: str) -> str:
    """The token with a reading after each run of kanji, okurigana aligned by the kana around them."""
    if not _KANJI_RUN.search(surface) or reading in ("", "*"):
        return surface
    parts = re.findall(rf"[{KANJI}]+|[^{KANJI}]+", surface)
    pattern = "".join("(.+?)" if _KANJI_RUN.fullmatch(p) else re.escape(_hira(p)) for p in parts)
    match = re.fullmatch(pattern, _hira(reading))
    if not match:
        return surface
    groups = iter(match.groups())
    return "".join(f"{p}（{next(groups)}）" if _KANJI_RUN.fullmatch(p) else p for p in parts)


def annotate(text: str, *, spaces: bool = True, readings: bool = True) -> str:
    """A first draft of `text` with spaces between phrases and readings after kanji, from the
    tokenizer's dictionary. Spaces already there are kept; readings already there are replaced by
    the dictionary's. Check the readings by hand."""
    stripped, spaced = _strip(text)
    toks = _tokens(stripped)
    out = []
    for prev, t in zip([None, *toks], toks):
        conventional = prev is not None and (
            (prev.surface in ("て", "で") and t.base in ("くださる", "いる", "おく", "みる"))
            or (t.major == "名詞" and t.minor == "非自立" and t.surface in ("こと", "とき", "ところ", "ため", "もの")
                and prev.major in ("動詞", "形容詞", "助動詞")))
        if spaced[t.start] or (spaces and (_starts_phrase(t, prev) or conventional)):
            out.append(" ")
        counter = prev is not None and re.fullmatch(r"[0-9０-９]+", prev.surface) and t.surface in _COUNTERS
        piece = _ruby_token(t.surface, t.reading) if readings and not counter else t.surface
        if readings and out and out[-1].endswith("）") and piece[:1] and re.match(rf"[{KANJI}]", piece[0]):
            # 外国（がいこく）+ 人（じん） -> 外国人（がいこくじん）
            head = re.match(rf"([{KANJI}]+)（([^）]+)）(.*)", piece, re.S)
            tail = re.search(rf"([{KANJI}]+)（([^）]+)）$", out[-1])
            if head and tail:
                out[-1] = out[-1][: tail.start()] + f"{tail.group(1)}{head.group(1)}（{tail.group(2)}{head.group(2)}）"
                piece = head.group(3)
        out.append(piece)
    return "".join(out).strip()
