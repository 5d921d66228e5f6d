"""The second source beside an answer is on the same ask (phrasings written for these tests): not
a clause that merely shares the asker's particulars (三个月) or another matter's wording."""

from __future__ import annotations

from knowledge.coverage import ContentReader
from knowledge.curation import topic_family
from knowledge.lexicon import load_lexicon
from knowledge.match import Matcher
from knowledge.signals import load_signals
from knowledge.tokenizer import Tokenizer

WAGES = "wage-payment-regulation-2019"
IMPLEMENTING = "labor-contract-law-implementing-regulation-2008"

_lexicon = load_lexicon()
_reader = ContentReader(
    Tokenizer(_lexicon.user_words, _lexicon.stopwords, _lexicon.dictionary_path),
    load_signals().shapes.asking_words,
)


def cited(matcher: Matcher, question: str) -> list[tuple[str, str]]:
    return [ranked.entry.key for ranked in matcher.match(question).ranked]


def test_shared_is_the_share_of_the_leads_explanation_the_other_gives_too() -> None:
    content = _reader.read("加班费拖欠不给", [], {})
    assert content.shared({"加班费", "拖欠"}, {"加班费", "拖欠", "工资"}) == 1.0
    assert content.shared({"加班费", "拖欠"}, {"加班费"}) < 1.0
    assert content.shared(set(), {"加班费"}) == 1.0  # a lead explaining nothing sets no bar


def test_unpaid_wages_are_not_seconded_by_pay_in_lieu_of_notice(library_matcher: Matcher) -> None:
    # 实施条例 第二十条 shares "……个月工资" but is about dismissal with a month's pay; the second
    # source for wages owed is one that explains the arrears too.
    result = library_matcher.match("老板欠我两个月工资怎么办")
    keys = [ranked.entry.key for ranked in result.ranked]
    assert keys[0] == (WAGES, "art16")
    assert keys[1] != (IMPLEMENTING, "art20")
    # On wages owed: a wage article, or the plan's item on wage arrears (工资拖欠…).
    second = result.ranked[1].entry
    assert second.topic == "wages" or "工资拖欠" in second.title


def test_the_askers_particulars_do_not_pick_the_runner_up(library_matcher: Matcher) -> None:
    # The best clause explains all but 三个月; a probation article that says 三个月 is no second
    # subject: the runner-up is another clause on wages.
    keys = cited(library_matcher, "我的工资被拖了三个月 该找谁")
    assert keys[0] == (WAGES, "art10")
    assert keys[1][0] == WAGES


def test_a_second_subject_still_decides_the_runner_up(library_matcher: Matcher) -> None:
    # Two asks: schooling answers first; settling (落户), which it leaves unexplained, comes next.
    ranked = library_matcher.match("想在天津落户 孩子上学怎么办").ranked
    assert ranked[0].entry.key == ("tianjin-2023-county-migrant-plan", "2.4.4")
    assert topic_family(ranked[1].entry.topic) == "settlement"
