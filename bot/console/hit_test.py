"""命中测试: what the bot would answer to a question, the clauses it ranked with their scores, and
why — the question's features each clause matched, the share of the question it explains — and
whether it would fall back or offer legal aid. Read from the engine's own result, nothing redone."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from handlers.questions import answer_question
from knowledge.citation import reference
from knowledge.match import FallbackReason, Matcher, Verdict

VERDICT_LABELS: Mapping[Verdict, str] = {
    Verdict.ANSWER: "回答",
    Verdict.AMBIGUOUS: "两条相近，都给出",
    Verdict.FALLBACK: "答不上（兜底回复）",
}
FALLBACK_LABELS: Mapping[FallbackReason, str] = {
    FallbackReason.EMPTY: "没有可读的文字",
    FallbackReason.NO_MATCH: "没有足够相关的条款",
    FallbackReason.OFF_TOPIC: "不属于政策问题",
    FallbackReason.OTHER_REGION: "问的是别的地方",
}


@dataclass(frozen=True, slots=True)
class RankedRow:
    rank: int
    reference: str  # document key:clause id, what the attach form takes
    citation: str
    title: str
    score: float
    # The question's words (and character pairs) this clause contains.
    matched_words: tuple[str, ...]
    matched_pairs: tuple[str, ...]
    is_curated: bool


@dataclass(frozen=True, slots=True)
class HitTest:
    question: str
    answer: str
    verdict: str
    fallback: bool
    fallback_reason: str | None
    handoff: bool
    coverage: float
    evidence: float
    words: tuple[str, ...]
    pairs: tuple[str, ...]
    ranked: tuple[RankedRow, ...]


def _split(features: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    words = tuple(f for f in features if not f.startswith("#"))
    pairs = tuple(f[1:] for f in features if f.startswith("#"))
    return words, pairs


def hit_test(matcher: Matcher, question: str) -> HitTest:
    answer, result, _record = answer_question(matcher, question)
    rows: list[RankedRow] = []
    for rank, ranked in enumerate(result.ranked, start=1):
        entry = ranked.entry
        position = matcher.index.positions[entry.key]
        said = matcher.index.features[position]
        words, pairs = _split(tuple(f for f in result.features if f in said))
        rows.append(
            RankedRow(
                rank=rank,
                reference=f"{entry.document_key}:{entry.clause.id}",
                citation=reference(entry.short_title, entry.clause.id),
                title=entry.title,
                score=ranked.score,
                matched_words=words,
                matched_pairs=pairs,
                is_curated=entry.curated is not None,
            )
        )
    words, pairs = _split(result.features)
    return HitTest(
        question=question,
        answer=answer.text,
        verdict=VERDICT_LABELS[result.verdict],
        fallback=answer.fallback,
        fallback_reason=FALLBACK_LABELS[result.fallback_reason] if result.fallback_reason else None,
        handoff=answer.handoff,
        coverage=result.coverage,
        evidence=result.evidence,
        words=words,
        pairs=pairs,
        ranked=tuple(rows),
    )


def curated_clauses(matcher: Matcher) -> list[tuple[str, str]]:
    """(reference, label) of every clause with a curated layer: where phrases can be attached."""
    return [
        (
            f"{entry.document_key}:{entry.clause.id}",
            f"{reference(entry.short_title, entry.clause.id)} {entry.title}",
        )
        for entry in matcher.entries
        if entry.curated is not None
    ]
