"""The free-text codebook: each comment gets the themes and the tone a reader would give it."""

import pandas as pd
import pytest

from coordkit.cohort.simulate import REACTION_COMMENTS
from coordkit.content.themes import THEMES, code_comments, theme_table, tone

SIMULATED = [(theme, t, phrase) for theme, bank in REACTION_COMMENTS.items() for t, phrases in bank.items()
             for phrase in phrases]


@pytest.mark.parametrize("theme, expected_tone, comment", SIMULATED)
def test_every_simulated_comment_is_coded_as_written(theme, expected_tone, comment):
    coded = code_comments([comment]).iloc[0]
    assert coded[theme], f"{comment!r} is not coded as {theme}"
    assert coded["tone"] == expected_tone


@pytest.mark.parametrize("comment, theme, expected", [
    ("ロールプレイの演習がもっとあるとよい。", "cases", "request"),
    ("専門用語の説明がとてもわかりやすかった。", "terminology", "positive"),
    ("通訳を交えた面談について、もう少し学びたい。", "language", "request"),
    ("研修サイトの動画の再生が途中で止まることがあった。", "platform", "critical"),
])
def test_comments_not_written_for_the_simulator(comment, theme, expected):
    coded = code_comments([comment]).iloc[0]
    assert coded[theme] and coded["tone"] == expected


def test_a_blank_comment_has_no_theme_and_no_tone():
    coded = code_comments(["", "  "])
    assert not coded[[t.code for t in THEMES]].any().any()
    assert coded["tone"].tolist() == ["", ""]


def test_a_problem_outweighs_praise_in_the_tone():
    assert tone("事例は良かったが、動画が長く感じた。") == "critical"


def test_theme_table_counts_negative_mentions_per_module():
    reaction = pd.DataFrame({"module": ["A", "A", "A", "B"],
                             "comment": ["動画が長く感じた。", "1本の動画をもう少し短くしてほしい。", "関係機関の役割が整理できた。", ""]})
    table = theme_table(reaction)
    workload = table.loc[("A", "workload")]
    assert workload["mentions"] == 2 and workload["negative"] == 2 and workload["comments"] == 3
    assert workload["share"] == pytest.approx(200 / 3)
    assert table.loc[("A", "partners"), "negative"] == 0
    assert "B" not in table.index.get_level_values(0)
