"""How much a book page teaches, in prose: Japanese characters on a Japanese page, English words on
an English page. Code cells, directive blocks, tables, headings, MyST roles and labels are left out,
so the numbers count what a trainee reads as text (tests/content/test_module_depth.py holds each
module page to the length of a 4-hour subject)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)
_FENCE = re.compile(r"^(`{3,}|~{3,})[^\n]*\n.*?^\1[ \t]*$", re.S | re.M)
_ROLE = re.compile(r"\{[a-z][\w:-]*\}`[^`]*`")
_JAPANESE = re.compile(r"[\u3005\u3007\u3041-\u309f\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff\u3001-\u3003"
                       r"\u300c-\u300f\u3010\u3011\u30fb\uff01-\uff5e]")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")


@dataclass(frozen=True)
class PageStats:
    japanese_chars: int
    english_words: int


def prose(text: str) -> str:
    """The page's running text: what is left once markup that is not prose is taken out."""
    text = _FRONT_MATTER.sub("", text)
    text = _FENCE.sub("", text)
    keep = []
    for line in text.splitlines():
        s = line.strip()
        if (s.startswith(("|", "#", ":::", "```", "<!--")) or re.fullmatch(r"\(\S+\)=", s)
                or re.fullmatch(r":[\w-]+:.*", s)):
            continue
        keep.append(_ROLE.sub("", line))
    return "\n".join(keep)


def stats(text: str) -> PageStats:
    body = prose(text)
    return PageStats(japanese_chars=len(_JAPANESE.findall(body)), english_words=len(_WORD.findall(body)))


def page_stats(path: Path) -> PageStats:
    return stats(Path(path).read_text(encoding="utf-8"))


if __name__ == "__main__":  # python -m coordkit.book.pagestats book/ja/modules/*.md
    import sys

    for name in sys.argv[1:]:
        s = page_stats(Path(name))
        print(f"{name}: {s.japanese_chars:,} Japanese characters, {s.english_words:,} English words")
