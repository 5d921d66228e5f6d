"""Everyday matters the library does not cover (pets, bank cards, a private landlord, a leak):
refused unless a clause explains most of the question. Phrasings written for these tests."""

from __future__ import annotations

import pytest

from knowledge.answerability import Evidence, is_unanswered_elsewhere
from knowledge.lexicon import bundled_data_path, load_lexicon
from knowledge.match import FallbackReason, Matcher, Verdict
from knowledge.scope import ScopeCheck, check_scope
from knowledge.signals import load_signals
from knowledge.tokenizer import Tokenizer

_rules = load_signals().scope
_lexicon = load_lexicon()
_tokenizer = Tokenizer(_lexicon.user_words, _lexicon.stopwords, _lexicon.dictionary_path)


def _library_texts() -> list[str]:
    # The laws, the plan, their curated layers and the colloquial lexicon (not jieba's dictionary).
    data = bundled_data_path("")
    laws = data / "laws"
    paths = [*laws.glob("*.md"), *laws.glob("*.curated.toml"), *data.glob("tianjin-*")]
    paths.append(data / "synonyms.toml")
    return [path.read_text(encoding="utf-8") for path in paths]


def test_no_everyday_domain_word_is_one_the_library_itself_uses() -> None:
    # A word any law, the plan or the lexicon says (押金, 身份证, 住房) cannot mark a question foreign.
    texts = _library_texts()
    assert len(texts) > 20
    used = [word for word in _rules.everyday_domain if any(word in text for text in texts)]
    assert used == []


def test_a_single_character_word_counts_only_on_its_own() -> None:
    def found(text: str) -> tuple[str, ...]:
        return check_scope(text, _rules, _tokenizer.segment(text)).everyday_domain

    assert "猫" in found("家里的猫三天没吃东西")
    assert found("这笔账里肯定有猫腻") == ()


def _evidence(coverage: float, *, at_work: bool = False) -> Evidence:
    return Evidence(
        score=20.0,
        coverage=coverage,
        information=10.0,
        foreign=0.0,
        is_about_work=at_work,
        rare_word_score=6.0,
    )


def test_an_everyday_matter_needs_a_clause_that_explains_most_of_it() -> None:
    scope = ScopeCheck(other_region=None, is_off_topic=False, everyday_domain=("漏水",))
    assert is_unanswered_elsewhere(scope, _evidence(0.45), None)
    assert not is_unanswered_elsewhere(scope, _evidence(0.7), None)
    # Named around a question about work, the work decides.
    assert not is_unanswered_elsewhere(scope, _evidence(0.45, at_work=True), None)


@pytest.mark.parametrize(
    "question",
    [
        "搬走半个月了 屋主扣着押金不给",
        "银行卡丢了要带身份证去挂失吗",
        "养的小狗被车撞了 能要赔偿吗",
        "社区医院打疫苗要带身份证吗",
        "借条上没写还钱日期 能去法院起诉吗",
        "家里老人走失了 要不要交材料登记",
    ],
)
def test_everyday_matters_sharing_a_legal_word_fall_back(
    library_matcher: Matcher, question: str
) -> None:
    result = library_matcher.match(question)
    assert result.verdict == Verdict.FALLBACK
    assert result.fallback_reason == FallbackReason.OFF_TOPIC


@pytest.mark.parametrize(
    "question",
    [
        "邻居介绍我去工地干活 干了三个月不给钱",
        "孩子的同学都在天津上学了 我家孩子没有居住证能上吗",
        "我在宠物医院当助理 老板不交社保",
        # A reviewer's own look-alikes: the job said as 活干完, a credit record with start-up loans.
        "邻居介绍的活干完了不给钱",
        "征信不好能申请创业担保贷款吗",
    ],
)
def test_questions_in_scope_that_name_an_everyday_word_are_still_answered(
    library_matcher: Matcher, question: str
) -> None:
    assert library_matcher.match(question).verdict != Verdict.FALLBACK
