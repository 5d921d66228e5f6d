"""Normalisation, sound-alike correction, citations: the pure pieces in front of the index."""

from __future__ import annotations

import pytest

from knowledge.citation import chinese_numeral, citation, clause_label
from knowledge.lexicon import load_lexicon
from knowledge.normalizer import MAX_QUESTION_CHARS, Normalizer, ScriptConverter
from knowledge.phonetic import PhoneticCorrector, split_pinyin


@pytest.fixture(scope="module")
def normalizer() -> Normalizer:
    return Normalizer(ScriptConverter())


def test_traditional_is_folded_to_simplified_and_remembered(normalizer: Normalizer) -> None:
    result = normalizer.normalize("請問工傷保險怎麼報銷？")
    assert result.text == "请问工伤保险怎么报销?"
    assert result.is_traditional


def test_simplified_is_not_mistaken_for_traditional(normalizer: Normalizer) -> None:
    assert not normalizer.normalize("老板拖欠工资怎么办").is_traditional


def test_full_width_letters_digits_and_spaces_fold(normalizer: Normalizer) -> None:
    assert normalizer.normalize("ＡＰＰ　１２３３３").text == "app 12333"


def test_emoji_control_and_direction_marks_are_dropped(normalizer: Normalizer) -> None:
    text = normalizer.normalize("\u202e工资😭😭\x07\u200b没发").text
    assert text == "工资 没发"


def test_dialect_words_become_standard(normalizer: Normalizer) -> None:
    assert normalizer.normalize("俺们木有合同咋整").text == "我们没有合同怎么办"


def test_very_long_text_is_cut(normalizer: Normalizer) -> None:
    assert len(normalizer.normalize("欠薪" * 10_000).text) == MAX_QUESTION_CHARS


def test_emoji_only_becomes_empty(normalizer: Normalizer) -> None:
    assert normalizer.normalize("😀😀👍").text == ""


def test_traditional_round_trip_uses_traditional_characters() -> None:
    assert ScriptConverter().to_traditional("农民工工资") == "農民工工資"


@pytest.fixture(scope="module")
def corrector() -> PhoneticCorrector:
    return PhoneticCorrector(
        readings=load_lexicon().readings,
        vocabulary=[
            *("工伤", "工伤保险", "落户", "积分落户", "随迁子女", "拖欠工资", "失业", "上班"),
            *("补办", "不签"),
            "pension",
        ],
        common_words={"事业": 10025, "工商": 1684, "上半年": 5000, "半年": 3000},
        segment=lambda text: [("上半年", 3, 6)] if text.startswith("今年上半年") else [],
    )


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("工商保险能报吗", "工伤保险能报吗"),
        ("鸡分落户要多少分", "积分落户要多少分"),
        ("岁迁子女上学", "随迁子女上学"),
        ("老板托欠工资", "老板拖欠工资"),
    ],
)
def test_homophone_typos_are_corrected(
    corrector: PhoneticCorrector, typed: str, meant: str
) -> None:
    assert corrector.correct(typed) == meant


def test_common_words_that_sound_alike_are_left_alone(corrector: PhoneticCorrector) -> None:
    assert corrector.correct("我想考事业单位") == "我想考事业单位"


def test_a_window_that_would_cut_a_common_word_is_left_alone(corrector: PhoneticCorrector) -> None:
    assert corrector.correct("今年上半年") == "今年上半年"


def test_words_sharing_no_character_are_left_alone(corrector: PhoneticCorrector) -> None:
    # 公上 shares the sound of 工伤 but no character: too far to be a typo.
    assert corrector.correct("公上") == "公上"


def test_a_negation_before_a_verb_is_meant(corrector: PhoneticCorrector) -> None:
    # 不办 sounds like 补办, but "never did it" is a sentence of its own, not a slip.
    assert corrector.correct("单位一直不办") == "单位一直不办"


def test_a_correction_never_puts_a_negation_in(corrector: PhoneticCorrector) -> None:
    # 补签 (signing afterwards) is typed as meant, though the vocabulary also holds 不签.
    assert corrector.correct("后来补签了") == "后来补签了"


def test_typed_pinyin_becomes_the_term(corrector: PhoneticCorrector) -> None:
    assert corrector.correct("zai tianjin neng luohu ma") == "zai tian jin neng 落户 ma"
    assert corrector.correct("gong shang bao xian") == "工伤保险"


def test_english_words_are_not_read_as_pinyin(corrector: PhoneticCorrector) -> None:
    assert corrector.correct("my salary") == "my salary"


def test_english_words_spelling_pinyin_but_no_term_stay_as_typed(
    corrector: PhoneticCorrector,
) -> None:
    # n-o-n and pen-si-o-n are syllables; no term sounds like them, so they were English.
    assert corrector.correct("签了non-compete") == "签了non-compete"


def test_english_words_of_the_vocabulary_stay_as_typed(corrector: PhoneticCorrector) -> None:
    assert corrector.correct("pension能补交吗") == "pension能补交吗"


def test_pinyin_splitting() -> None:
    syllables = frozenset(load_lexicon().readings.values())
    assert split_pinyin("gongshang", syllables) == ("gong", "shang")
    assert split_pinyin("salary", syllables) is None


@pytest.mark.parametrize(
    ("number", "numeral"),
    [
        (1, "一"),
        (10, "十"),
        (12, "十二"),
        (20, "二十"),
        (33, "三十三"),
        (105, "一百零五"),
        (110, "一百一十"),
    ],
)
def test_chinese_numerals(number: int, numeral: str) -> None:
    assert chinese_numeral(number) == numeral


@pytest.mark.parametrize(
    ("clause_id", "label"),
    [
        ("0", "前言"),
        ("1", "一"),
        ("2.3", "二（三）"),
        ("2.3.3", "二（三）3"),
        ("9.33", "九（三十三）"),
        ("ch2", "第二章"),
        ("art12", "第十二条"),
    ],
)
def test_clause_labels(clause_id: str, label: str) -> None:
    assert clause_label(clause_id) == label


def test_citation_reads_as_the_plan_is_numbered() -> None:
    assert citation("实施方案", "2.3.3") == "依据：《实施方案》二（三）3"


def test_a_correction_never_cuts_into_a_quantity() -> None:
    # 月工 (of 三个月工资) sounds like the term 约工, but 三个月 is one word: no slip starts in it.
    corrector = PhoneticCorrector(
        readings=load_lexicon().readings,
        vocabulary=["约工"],
        common_words={},
        segment=lambda text: [("三个月", 0, 3), ("工资", 3, 5)],
    )
    assert corrector.correct("三个月工资") == "三个月工资"
