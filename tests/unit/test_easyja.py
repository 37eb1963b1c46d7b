"""The easy-Japanese checker: each rule fires on a sentence that breaks it and stays quiet on one
that follows it; the command prints one line per finding and exits 1 when there is any."""

import subprocess
import sys

import pytest

from coordkit.cli import main
from coordkit.content.easyja import RULES, Finding, annotate, check, count_by_rule, plain, sentences

# A sentence that follows every rule (the reference for "does not fire").
GOOD = "在留（ざいりゅう）カードを 見（み）せて ください。"

BREAKS = {
    "length": "中央（ちゅうおう） 区役所（くやくしょ）の 新（あたら）しい 建物（たてもの）の 二階（にかい）の 窓口（まどぐち）で 国民健康保険（こくみんけんこうほけん）の 保険証（ほけんしょう）を もらいます。",
    "clauses": "会社（かいしゃ）を やめたので、お金（かね）が ありません。",
    "spacing": "在留（ざいりゅう）カードを見（み）せてください。",
    "furigana": "在留カードを 見せて ください。",
    "difficult_word": "書類（しょるい）を 提出（ていしゅつ）して ください。",
    "double_negative": "書類（しょるい）を 出（だ）さなければ なりません。",
    "passive": "夫（おっと）に 殴（なぐ）られました。",
    "relative_date": "来週（らいしゅう） 市役所（しやくしょ）へ 行（い）きます。",
}

FOLLOWS = {     # a sentence close to the breaking one that follows the rule
    "length": "二階（にかい）の 窓口（まどぐち）で 保険証（ほけんしょう）を もらいます。",
    "clauses": "今（いま） お金（かね）が ありません。",
    "spacing": "在留（ざいりゅう）カードを 見（み）せて ください。",
    "furigana": "在留（ざいりゅう）カードを 見（み）せて ください。",
    "difficult_word": "書類（しょるい）を 出（だ）して ください。",
    "double_negative": "書類（しょるい）を 出（だ）して ください。",
    "passive": "夫（おっと）が あなたを 殴（なぐ）りました。",
    "relative_date": "12月（がつ）14日（にち） 市役所（しやくしょ）へ 行（い）きます。",
}


def rules(text):
    return {f.rule for f in check(text)}


def test_a_compliant_sentence_has_no_finding():
    assert check(GOOD) == []


@pytest.mark.parametrize("rule", RULES)
def test_each_rule_fires_on_a_sentence_that_breaks_it(rule):
    found = [f for f in check(BREAKS[rule]) if f.rule == rule]
    assert len(found) == 1, check(BREAKS[rule])
    f = found[0]
    assert isinstance(f, Finding) and f.sentence == BREAKS[rule]
    assert f.message_ja and f.message_en and f.suggestion


@pytest.mark.parametrize("rule", RULES)
def test_each_rule_is_quiet_on_a_sentence_that_follows_it(rule):
    assert rule not in rules(FOLLOWS[rule]), check(FOLLOWS[rule])


def test_length_is_counted_without_spaces_and_readings():
    assert plain("在留（ざいりゅう）カードを 見（み）せて ください。") == "在留カードを見せてください。"
    thirty = "あ" * 29 + "。"
    assert "length" not in rules(thirty) and "length" in rules("あ" + thirty)


@pytest.mark.parametrize("text", [
    "仕事（しごと）を 探（さが）しながら 働（はたら）きます。",      # ながら
    "困（こま）ったら 電話（でんわ）して ください。",               # たら
    "書類（しょるい）を 書（か）き、窓口（まどぐち）に 出（だ）します。",  # 連用中止
    "雨（あめ）ですが、行（い）きます。",                           # が
])
def test_clause_links_are_found(text):
    assert "clauses" in rules(text)


@pytest.mark.parametrize("text", [
    "ここで 待（ま）って いて ください。",                          # て + auxiliary
    "日本語（にほんご）で 話（はな）しても いいです。",                # permission
    "ここで たばこを 吸（す）っては いけません。",                   # prohibition
])
def test_one_clause_with_te_forms_is_not_split(text):
    assert "clauses" not in rules(text), check(text)


def test_three_predicates_in_one_sentence_are_too_many():
    assert "clauses" in rules("日本（にほん）に 住（す）む 人（ひと）が 使（つか）う 窓口（まどぐち）を 探（さが）します。")


def test_counters_after_digits_need_no_reading_but_other_kanji_do():
    assert "furigana" not in rules("14日（にち）以内（いない）に 出（だ）して ください。".replace("日（にち）", "日"))
    assert "furigana" in rules("14日以内に 出（だ）して ください。")


def test_half_width_brackets_are_read_as_readings():
    assert check("在留(ざいりゅう)カードを 見(み)せて ください。") == []


def test_words_a_client_must_learn_are_allowed():
    assert "difficult_word" not in rules("在留（ざいりゅう）カードの 手続（てつづ）きを します。")


def test_honorific_and_loanwords_are_difficult():
    assert "difficult_word" in rules("予約（よやく）を キャンセルします。")
    assert "difficult_word" in rules("説明（せつめい）して いただきます。")


def test_relative_date_with_a_date_is_fine():
    assert "relative_date" not in rules("来週（らいしゅう）の 月曜日（げつようび）に 来（き）て ください。")


def test_sentences_are_cut_and_markdown_marks_removed():
    text = "- 一（いち）です。二（に）です。\n\nEnglish only.\n1. 三（さん）です"
    assert sentences(text) == [(1, "一（いち）です。"), (1, "二（に）です。"), (4, "三（さん）です")]


def test_annotate_adds_spaces_and_readings_that_pass():
    draft = annotate("夫に相談します。")
    assert draft == "夫（おっと）に 相談（そうだん）します。"
    assert check(draft) == []


def test_count_by_rule_lists_every_rule():
    counts = count_by_rule(check(BREAKS["passive"] + "\n" + GOOD))
    assert set(counts) == set(RULES) and counts["passive"] == 1 and sum(counts.values()) == 1


def test_the_command_prints_one_line_per_finding_and_exits_1(tmp_path, capsys):
    path = tmp_path / "note.md"
    path.write_text(f"{GOOD}\n{BREAKS['relative_date']}\n{BREAKS['furigana']}\n", encoding="utf-8")
    assert main(["easyja", "check", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{path}:2: relative_date: ") and out[1].startswith(f"{path}:3: furigana: ")
    assert out[-1] == "2 finding(s): furigana 1, relative_date 1"
    path.write_text(GOOD + "\n", encoding="utf-8")
    assert main(["easyja", "check", str(path)]) == 0


def test_the_command_reads_standard_input_and_names_a_missing_file(tmp_path):
    run = subprocess.run([sys.executable, "-m", "coordkit", "easyja", "check", "-"], input=BREAKS["passive"],
                         capture_output=True, text=True)
    assert run.returncode == 1 and run.stdout.startswith("-:1: passive: ")
    run = subprocess.run([sys.executable, "-m", "coordkit", "easyja", "check", str(tmp_path / "none.txt")],
                         capture_output=True, text=True)
    assert run.returncode == 1 and "none.txt not found" in run.stderr and "standard input" in run.stderr
