"""An amount or a stretch of time is one word (its unit never glues to the word after it), and
function words jieba glued into a made-up word stand apart."""

from __future__ import annotations

import pytest

from knowledge.coverage import QUANTITY_INFORMATION, ContentReader
from knowledge.lexicon import load_lexicon
from knowledge.tokenizer import Tokenizer


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    lexicon = load_lexicon()
    return Tokenizer(lexicon.user_words, lexicon.stopwords, lexicon.dictionary_path)


def cut(tokenizer: Tokenizer, text: str) -> list[str]:
    return [word for word, _start, _end in tokenizer.segment(text)]


@pytest.mark.parametrize(
    ("text", "quantity", "after"),
    [
        ("拖了八个月工资没给", "八个月", "工资"),
        ("已经四个月工资没发了", "四个月", "工资"),
        ("每个月工资都晚发", "每个月", "工资"),
        ("第一个月工资打折", "第一个月", "工资"),
    ],
)
def test_the_unit_stays_with_its_number(
    tokenizer: Tokenizer, text: str, quantity: str, after: str
) -> None:
    words = cut(tokenizer, text)
    assert quantity in words
    assert words[words.index(quantity) + 1] == after


def test_quantities_whose_pieces_jieba_cut_apart_are_joined(tokenizer: Tokenizer) -> None:
    assert "十二个月" in cut(tokenizer, "按十二个月平均工资算")
    assert "三个多月" in cut(tokenizer, "三个多月没发钱")


def test_a_word_that_starts_with_a_number_is_kept(tokenizer: Tokenizer) -> None:
    # 一月份 is jieba's whole word; 年级 would leave a lone 级 behind, so 一年 is not cut out.
    assert "一月份" in cut(tokenizer, "一月份工资")
    assert "年级" in cut(tokenizer, "一年级新生")


def test_the_law_text_indexes_the_wage_as_its_own_word(tokenizer: Tokenizer) -> None:
    features = tokenizer.features("用人单位应当额外支付劳动者一个月工资")
    assert "工资" in features
    assert "月工资" not in features


def test_a_quantity_matches_by_its_figure_and_unit(tokenizer: Tokenizer) -> None:
    words = tokenizer.words("每天干12个小时")
    assert {"12个小时", "12", "小时"} <= set(words)
    assert not {"个月", "月"} & set(tokenizer.words("干了五个月"))


def test_a_quantity_says_little_and_the_wage_keeps_its_weight(tokenizer: Tokenizer) -> None:
    reader = ContentReader(tokenizer)
    content = reader.read("老板欠了我六个月工资", (), {})
    weights = {content.text[s:e]: w for s, e, w in content.words}
    assert weights["六个月"] == QUANTITY_INFORMATION
    assert weights["工资"] > 1.0


def test_a_made_up_word_of_function_words_is_cut_into_them(tokenizer: Tokenizer) -> None:
    # jieba's HMM glues 我 and 能 into a word no dictionary has; it says nothing by itself.
    assert cut(tokenizer, "我能不能请假")[:2] == ["我", "能"]
    assert "我能" not in tokenizer.words("我能不能请假")


def test_a_made_up_word_with_content_is_left_whole(tokenizer: Tokenizer) -> None:
    # 交着 keeps its verb: it may be how the asker says it, not glue.
    assert "交着" in cut(tokenizer, "社保一直交着")


def test_function_words_carry_no_information_once_apart(tokenizer: Tokenizer) -> None:
    content = ContentReader(tokenizer).read("我能直接走人吗", (), {})
    assert all(content.text[s:e] not in {"我能", "我", "能"} for s, e, _ in content.words)


def test_counts_and_rough_numbers_are_quantities_too(tokenizer: Tokenizer) -> None:
    # 三回 is a rare dictionary word: read by its frequency it weighed as a topic.
    content = ContentReader(tokenizer).read("这个月请了三回假", (), {})
    weights = {content.text[s:e]: w for s, e, w in content.words}
    assert weights["三回"] == QUANTITY_INFORMATION
    assert "十来天" in cut(tokenizer, "干了十来天就走了")
