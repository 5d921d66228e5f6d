"""A legal term read from the asker's phrase or verb is part of what is asked (phrasings written
for these tests): in ranking, a clause that shares only the topic noun inside the phrase explains
less than one that says the term."""

from __future__ import annotations

from knowledge.coverage import ContentReader
from knowledge.lexicon import load_lexicon
from knowledge.match import Matcher
from knowledge.tokenizer import Tokenizer

_lexicon = load_lexicon()
_tokenizer = Tokenizer(_lexicon.user_words, _lexicon.stopwords, _lexicon.dictionary_path)
_reader = ContentReader(_tokenizer, legal_terms=frozenset({"认定为工伤", "劳动争议仲裁"}))


def span(question: str, said: str, term: str) -> tuple[int, int, str]:
    start = question.index(said)
    return (start, start + len(said), term)


def test_a_term_read_from_a_phrase_is_explained_only_by_saying_it() -> None:
    question = "干活扭了腰 可以按工伤走吗"
    content = _reader.read(question, [span(question, "按工伤", "认定为工伤")], {})
    says_the_term = {"工伤", "认定为工伤", "扭", "腰"}
    shares_the_noun = {"工伤", "扭", "腰"}
    # The plain coverage (the evidence for answering at all) sees only 按 between them …
    plain = content.coverage(says_the_term) - content.coverage(shares_the_noun)
    # … the ranking coverage sees the term asked about.
    asked = content.asked_coverage(says_the_term) - content.asked_coverage(shares_the_noun)
    assert asked > plain > 0


def test_a_term_is_also_explained_by_all_of_its_words() -> None:
    question = "干活扭了腰 可以按工伤走吗"
    expansions = {"认定为工伤": ("认定", "工伤")}
    content = _reader.read(question, [span(question, "按工伤", "认定为工伤")], expansions)
    assert content.asked_coverage({"认定", "工伤"}) > content.asked_coverage({"工伤"})


def test_one_noun_read_as_a_term_is_the_topic_and_adds_nothing() -> None:
    question = "劳动仲裁要交钱吗"
    content = _reader.read(question, [span(question, "劳动仲裁", "劳动争议仲裁")], {})
    assert content.terms == ()


def test_a_term_said_in_its_own_words_adds_nothing() -> None:
    question = "怎样才能认定为工伤"
    content = _reader.read(question, [span(question, "认定为工伤", "认定为工伤")], {})
    assert content.terms == ()


def test_a_term_outside_the_reviewed_lexicon_adds_nothing() -> None:
    question = "干活扭了腰 可以按工伤走吗"
    content = _reader.read(question, [span(question, "按工伤", "工伤待遇")], {})
    assert content.terms == ()


def test_dismissal_while_nursing_answers_before_the_nursing_work_rules(
    library_matcher: Matcher,
) -> None:
    # 开了 asks about being dismissed; 劳动法 第六十三条 (no night shifts while nursing) only
    # repeats 哺乳期. The articles that forbid the dismissal lead.
    result = library_matcher.match("刚生完孩子还在喂奶 公司能把我开了吗")
    assert result.ranked[0].entry.key in {
        ("labor-law-2018", "art29"),
        ("labor-contract-law-2012", "art42"),
    }
