"""The ask of a long question weighs more than the story told before it (phrasings written for
these tests): the clause with the question words names what the answer must be about."""

from __future__ import annotations

from knowledge.coverage import ContentReader
from knowledge.lexicon import load_lexicon
from knowledge.match import Matcher
from knowledge.signals import load_signals
from knowledge.tokenizer import Tokenizer

_lexicon = load_lexicon()
_signals = load_signals()
_reader = ContentReader(
    Tokenizer(_lexicon.user_words, _lexicon.stopwords, _lexicon.dictionary_path),
    _signals.shapes.asking_words,
    asker=_signals.handoff.first_person,
    asks=_signals.shapes.asks,
)


def focus_words(question: str) -> list[str]:
    content = _reader.read(question, [], {})
    return [
        question[start:end] for n, (start, end, _) in enumerate(content.words) if n in content.focus
    ]


def test_the_ask_after_a_story_is_the_focus() -> None:
    question = "在工地上开了两年塔吊 上个月从架子上摔下来 腰摔坏了 老板给报工伤吗"
    words = focus_words(question)
    assert "工伤" in words
    assert "塔吊" not in words and "架子" not in words


def test_without_a_question_word_the_last_clause_is_the_focus() -> None:
    words = focus_words("我在食堂帮厨 干了一年多 老板天天让加班 加班费一分没有")
    assert "加班费" in words
    assert "食堂" not in words


def test_one_clause_before_the_ask_is_its_condition_not_a_story() -> None:
    assert focus_words("合同签三年，试用期能定半年吗") == []


def test_an_ask_that_names_nothing_points_back_at_the_whole_story() -> None:
    assert focus_words("我在食堂帮厨 干了一年多 老板天天让加班 这样合法吗") == []


def test_focused_coverage_favours_the_clause_that_explains_the_ask() -> None:
    content = _reader.read("在仓库搬货两年了 夜里常常加班 腰也累坏了 工伤怎么申请", [], {})
    about_the_ask, about_the_story = {"工伤", "申请"}, {"仓库", "加班"}
    plain = content.coverage(about_the_ask) - content.coverage(about_the_story)
    focused = content.coverage(about_the_ask, 3.0) - content.coverage(about_the_story, 3.0)
    assert focused > plain


def test_an_injury_story_does_not_outrank_the_overtime_pay_asked_for(
    library_matcher: Matcher,
) -> None:
    # 劳动法 第四十四条 sets the overtime rates; the cut hand is only how the worker got here.
    question = (
        "我在饭店后厨切菜 每天干十来个小时 上个月手被刀划了个大口子 缝了八针 "
        "老板让我自己掏钱 我想问问加班费怎么算"
    )
    result = library_matcher.match(question)
    assert result.ranked[0].entry.key == ("labor-law-2018", "art44")
