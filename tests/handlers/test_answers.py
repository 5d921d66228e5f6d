"""Answers on the bundled plan: one phone screen, cited, honest about missing figures."""

from __future__ import annotations

import re

import pytest

from handlers.answers import SHORT_ANSWER_LIMIT, compose_answer, explain
from knowledge.match import Matcher, Verdict

PUBLIC_HOTLINES = {"12333", "12351", "12348", "12345"}


def test_every_clause_explanation_fits_a_phone_screen_and_cites_itself(
    plan_matcher: Matcher,
) -> None:
    for entry in plan_matcher.entries:
        text = explain(entry, asks_figure=True)
        assert len(text) <= SHORT_ANSWER_LIMIT, (entry.clause.id, len(text))
        assert text.endswith(f"》{entry.clause.id}") is False  # the label, not the raw id
        assert "依据：《实施方案》" in text


@pytest.mark.parametrize(
    "question",
    [
        "老板欠了我三个月工资不给，我想找律师",
        "在工地摔断了腿老板不管，医药费都是我自己垫的",
        "积分落户要多少分才够",
        "保障性租赁住房一个月租金多少钱",
    ],
)
def test_answers_fit_and_name_only_public_hotlines(plan_matcher: Matcher, question: str) -> None:
    answer = compose_answer(plan_matcher.match(question))
    assert len(answer.text) <= SHORT_ANSWER_LIMIT
    assert set(re.findall(r"\d{5}", answer.text)) <= PUBLIC_HOTLINES


def test_a_missing_figure_is_said_plainly(plan_matcher: Matcher) -> None:
    answer = compose_answer(plan_matcher.match("积分落户要多少分才够"))
    assert "方案没有写" in answer.text and "依据：《实施方案》二（四）5" in answer.text


def test_two_close_clauses_are_both_offered(plan_matcher: Matcher) -> None:
    result = next(
        result
        for question in ("签合同和发工资", "工伤保险和拖欠工资")
        if (result := plan_matcher.match(question)).verdict == Verdict.AMBIGUOUS
    )
    answer = compose_answer(result)
    assert answer.text.startswith("你的问题可能说的是两件事")
    assert any(choice.label.startswith("也可能你想问：") for choice in answer.choices)


def test_a_handoff_offers_legal_aid_first_and_cites_the_matter_first(
    plan_matcher: Matcher,
) -> None:
    answer = compose_answer(plan_matcher.match("包工头拖了我半年工钱不给"))
    assert answer.handoff and answer.choices[0].payload == "legal"
    assert answer.text.index("二（三）4") < answer.text.index("二（三）3")
    clauses = [source.clause for source in answer.sources]
    assert clauses[0] == "2.3.3" and clauses[2] == "2.3.4"
