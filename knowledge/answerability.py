"""Whether the best clause answers a question at all: the evidence behind an honest fallback.

The engine refuses rather than cite a clause that merely shares words with the question: when the
clause explains too little of it, when the question names more that is foreign to the whole
library than the clause explains, or when it names an everyday topic, an everyday matter or another
legal domain that the clause does not speak of or explains little of.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass

from knowledge.scope import ScopeCheck

# Below this the best clause shares too little with the question to be its answer: a score
# (BM25 before coverage) this low, or less than this share of the question's information.
MIN_ANSWER_SCORE = 2.0
MIN_COVERAGE = 0.2
# A weak match (BM25 under this many times the weight of a word only one clause uses: an
# ordinary word or two shared, 生病 with a pet's illness, 赔偿 with a neighbour's quarrel) must
# explain more than a couple of the question's words, or nearly all of a short question on one
# matter (年假几天). An uncurated article, in the law's own words, matches a colloquial question
# weakly too, but explains its several words. In units of that weight, the floor holds in a
# smaller index (the plan alone), where every word weighs less. Not applied to a question
# with pinyin or English words (zai tianjin neng luohu ma), whose explained share is unknown,
# nor to one about work: the library is about work, and a worker's short question (老板让我们
# 签白纸) may share a word or two with its article and still be its matter.
WEAK_ANSWER_RARE_WORDS = 1.43
WEAK_MIN_EXPLAINED = 4.5
FULL_COVERAGE = 0.75
# A question that names more the library never speaks of than its best clause explains asks about
# something else: 粉丝 against 直播. A question about work (a workplace, an employer, wages
# named) tells particulars the library never names (超市卡, 小轿车) around what it asks, so
# there the foreign nouns must outweigh it twice.
MAX_FOREIGN_SHARE = 1.0
MAX_FOREIGN_SHARE_AT_WORK = 2.0
# Everyday-topic words (weather, tickets) must be outweighed by a clearly policy question.
MIN_OFF_TOPIC_ANSWER_SCORE = 10.0
# A question that names what no document covers is answered only by a clause that explains
# much of it: one that merely mentions 公积金 in a list of services does not say how a
# housing-fund loan is computed. Another legal domain needs more than an everyday word, which a
# worker's own question may carry (坐地铁下班路上被撞了).
OFF_TOPIC_COVERAGE = 0.4
OFF_DOMAIN_COVERAGE = 0.6
# An everyday matter the library never speaks of (a pet, a lost bank card, a leaking pipe) shares
# real legal words with some article (押金, 身份证, 赔偿); a clause answers it only if it explains
# most of the question. A question about work may name such things around what it asks (a
# neighbour who found the job), so there the work itself decides.
EVERYDAY_DOMAIN_COVERAGE = 0.6


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the best clause has for a question, and what the question says beyond the library."""

    score: float
    coverage: float
    # The question's information, and the part of it in nouns no clause of the library explains.
    information: float
    foreign: float
    is_about_work: bool
    # The BM25 weight of a word only one clause of the index uses (its largest idf).
    rare_word_score: float
    # Pinyin or English words in it: the dictionary cannot weigh what they explain.
    is_spelled_out: bool = False

    @property
    def explained(self) -> float:
        return self.coverage * self.information


def speaks_of(said: Set[str], word: str) -> bool:
    """The clause's features hold the word, or every character pair of it."""
    return word in said or all(
        "#" + word[i : i + 2] in said or word[i : i + 2] in said for i in range(len(word) - 1)
    )


def is_unanswered_elsewhere(scope: ScopeCheck, evidence: Evidence, said: Set[str] | None) -> bool:
    """The question names an everyday topic or an uncovered domain the best clause doesn't answer."""
    if scope.off_domain and (
        said is None
        or not all(speaks_of(said, word) for word in scope.off_domain)
        or evidence.coverage < OFF_DOMAIN_COVERAGE
    ):
        return True
    if (
        scope.everyday_domain
        and not evidence.is_about_work
        and evidence.coverage < EVERYDAY_DOMAIN_COVERAGE
    ):
        return True
    return scope.is_off_topic and (
        evidence.score < MIN_OFF_TOPIC_ANSWER_SCORE or evidence.coverage < OFF_TOPIC_COVERAGE
    )


def lacks_evidence(evidence: Evidence) -> bool:
    """The best clause explains too little of the question, or less than is foreign to the library."""
    share = MAX_FOREIGN_SHARE_AT_WORK if evidence.is_about_work else MAX_FOREIGN_SHARE
    return (
        evidence.score < MIN_ANSWER_SCORE
        or evidence.coverage < MIN_COVERAGE
        or (
            not evidence.is_spelled_out
            and not evidence.is_about_work
            and evidence.score < WEAK_ANSWER_RARE_WORDS * evidence.rare_word_score
            and evidence.explained < WEAK_MIN_EXPLAINED
            and evidence.coverage < FULL_COVERAGE
        )
        or evidence.foreign > share * evidence.explained
    )
