"""Questions and answers: one typed question → the engine once → a cited, phone-sized answer."""

from __future__ import annotations

import time

from handlers.answers import Answer, compose_answer
from handlers.messages import QuestionRecord
from knowledge.match import Matcher, MatchResult


def answer_question(matcher: Matcher, question: str) -> tuple[Answer, MatchResult, QuestionRecord]:
    """The answer, the engine's result behind it, and the numbers a channel may log or store."""
    started = time.perf_counter()
    result = matcher.match(question)
    answer = compose_answer(result)
    best = result.best
    record = QuestionRecord(
        clause=best.entry.clause.id if best else None,
        document=best.entry.document_key if best else None,
        score=best.score if best else 0.0,
        topic=answer.topic,
        fallback=answer.fallback,
        handoff=answer.handoff,
        latency_ms=(time.perf_counter() - started) * 1000,
    )
    return answer, result, record
