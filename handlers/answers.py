"""From the engine's decision to what a worker reads: short, cited, honest about what is missing."""

from __future__ import annotations

from dataclasses import dataclass

from handlers import texts
from handlers.messages import Choice, Reply, Source
from knowledge.citation import citation, clause_label, reference
from knowledge.index import IndexedClause
from knowledge.match import FallbackReason, MatchResult, RankedClause, Verdict

# The first screen of an answer; details are one button away.
SHORT_ANSWER_LIMIT = 300
# A clause without a curated explanation shows this much of its own text.
RAW_EXCERPT_CHARS = 150
# Other clauses worth a button: this share of the best score, and real evidence of their own.
RELATED_RATIO = 0.2
RELATED_MIN_SCORE = 3.0
MAX_SOURCES = 3
# Where an uncurated excerpt may end: after a sentence, else after a clause of one.
_SENTENCE_ENDS = ("。", "；", "！", "？", "\n")
_CLAUSE_ENDS = ("，", "：", "、")
# A runner-up this close to the best, from a document that says something the best does not,
# is worth one line in the answer itself ("没签合同" needs 第十条 and 第八十二条).
SECOND_SOURCE_RATIO = 0.6
# Button payloads other flows answer: the topic menu, and the legal-aid referral's entry.
MENU_PAYLOAD = "menu"
LEGAL_AID_PAYLOAD = "legal"
TOPIC_PAYLOAD_PREFIX = "topic:"


@dataclass(frozen=True, slots=True)
class Answer:
    """The answer to one question, as every channel and the CLI see it."""

    text: str
    topic: str | None
    sources: tuple[Source, ...]
    handoff: bool
    fallback: bool
    choices: tuple[Choice, ...] = ()

    @property
    def reply(self) -> Reply:
        return Reply(self.text, self.choices, self.sources)


def clause_payload(action: str, entry: IndexedClause) -> str:
    """`full:doc:2.3.3` — short enough for Telegram's 64-byte callback data."""
    return f"{action}:{entry.document_key}:{entry.clause.id}"


def source_of(entry: IndexedClause, score: float) -> Source:
    return Source(
        document=entry.document_key,
        clause=entry.clause.id,
        title=entry.title,
        score=score,
        citation=citation(entry.short_title, entry.clause.id),
    )


def explain(
    entry: IndexedClause, *, asks_figure: bool = False, limit: int = SHORT_ANSWER_LIMIT
) -> str:
    """The plain explanation of one clause with its citation, within the short-answer limit."""
    cite = citation(entry.short_title, entry.clause.id)
    curated = entry.curated
    if curated is None:
        return f"{entry.title}\n{excerpt(entry.clause.text)}\n{cite}"
    hotlines = texts.LIST_SEPARATOR.join(texts.HOTLINE_NAMES[h] for h in curated.hotlines)
    ask = texts.ASK_PREFIX + curated.ask
    if hotlines:
        ask += texts.ASK_HOTLINES.format(hotlines=hotlines)
    lines = [texts.CURATED_HEADLINE.format(title=curated.title, summary=curated.summary)]
    if asks_figure and curated.no_figure:
        lines.append(curated.no_figure)
    next_steps = texts.NEXT_STEPS_PREFIX + curated.next_steps
    lines += [next_steps, ask, cite]
    # Drop the least essential lines until the answer fits one phone screen.
    for optional in (ask, curated.no_figure, next_steps):
        if len("\n".join(lines)) <= limit:
            break
        if optional in lines:
            lines.remove(optional)
    return "\n".join(lines)


def excerpt(text: str, limit: int = RAW_EXCERPT_CHARS) -> str:
    """A clause's own words up to `limit`, cut after a sentence (or a clause) rather than mid-word."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    for stops in (_SENTENCE_ENDS, _CLAUSE_ENDS):
        cut = max(head.rfind(stop) for stop in stops)
        if cut >= limit // 3:
            return head[: cut + 1] + "…"
    return head + "…"


def full_text(entry: IndexedClause) -> str:
    header = texts.FULL_TEXT_HEADER.format(
        short_title=entry.short_title, label=clause_label(entry.clause.id)
    )
    return f"{header}\n{entry.clause.text}"


def _fallback_text(result: MatchResult) -> str:
    if result.fallback_reason == FallbackReason.OTHER_REGION:
        return texts.FALLBACK_OTHER_REGION.format(region=result.other_region)
    if result.fallback_reason == FallbackReason.OFF_TOPIC:
        return texts.FALLBACK_OFF_TOPIC
    if result.fallback_reason == FallbackReason.EMPTY:
        return texts.EMPTY_HINT
    return texts.FALLBACK_NO_MATCH


def closest_topics(result: MatchResult, limit: int = 2) -> list[Choice]:
    """Menu topics of the clauses that came closest, for a question that may be a policy one."""
    keys: list[tuple[str, str]] = []
    for ranked in result.ranked:
        found = next((item for item in texts.MENU if ranked.entry.topic in item[2]), None)
        if found is not None and (found[0], found[1]) not in keys:
            keys.append((found[0], found[1]))
    return [
        Choice(texts.CLOSEST_TOPIC.format(label=label), TOPIC_PAYLOAD_PREFIX + key)
        for label, key in keys[:limit]
    ]


def _second_source(
    result: MatchResult, lead: IndexedClause, rest: list[RankedClause]
) -> IndexedClause | None:
    """A curated runner-up close to the best that is not the answer's own clause."""
    if result.verdict != Verdict.ANSWER or not rest:
        return None
    runner = rest[0]
    best_score = result.ranked[0].score if result.ranked else 0.0
    if runner.entry is lead or runner.entry.curated is None or runner.entry.topic == "legal_aid":
        return None
    return runner.entry if runner.score >= SECOND_SOURCE_RATIO * best_score else None


def menu_choice() -> Choice:
    return Choice(texts.MENU_LABEL, MENU_PAYLOAD)


def legal_aid_choice() -> Choice:
    return Choice(texts.LEGAL_AID_LABEL, LEGAL_AID_PAYLOAD)


def compose_answer(result: MatchResult) -> Answer:
    """The worker-facing answer for an engine result (Simplified; channels convert on the way out)."""
    if result.verdict == Verdict.FALLBACK or result.best is None:
        text = _fallback_text(result)
        choices = [menu_choice()]
        if result.handoff:
            text += "\n" + texts.HANDOFF_OFFER
            choices.insert(0, legal_aid_choice())
        if result.fallback_reason == FallbackReason.NO_MATCH:
            choices[:0] = closest_topics(result)
        return Answer(text, None, (), result.handoff, True, tuple(choices))
    best = result.best
    lead = best.entry
    rest = list(result.ranked[1:])
    preface = ""
    if result.handoff:
        # The offer of legal aid comes first (its own cited line), then the clause on the matter.
        aid = next((r for r in result.ranked if r.entry.topic == "legal_aid"), best)
        preface = (
            f"{texts.HANDOFF_OFFER}\n{citation(aid.entry.short_title, aid.entry.clause.id)}\n\n"
        )
        if aid is best and rest:
            lead, rest = rest[0].entry, rest[1:]
        else:
            rest = [r for r in rest if r is not aid]
    elif result.verdict == Verdict.AMBIGUOUS:
        preface = texts.AMBIGUOUS_PREFIX + "\n"
    body = preface + explain(
        lead, asks_figure=result.asks_figure, limit=SHORT_ANSWER_LIMIT - len(preface)
    )
    second = _second_source(result, lead, rest)
    if second is not None:
        line = texts.SECOND_SOURCE.format(
            citation=reference(second.short_title, second.clause.id), title=second.title
        )
        if len(body) + 1 + len(line) <= SHORT_ANSWER_LIMIT:
            body += "\n" + line
    choices = [Choice(texts.VIEW_FULL_TEXT, clause_payload("full", lead))]
    if result.handoff:
        choices.insert(0, legal_aid_choice())
    top_score = max((r.score for r in result.ranked), default=0.0)
    prefix = texts.ALSO_MAYBE if result.verdict == Verdict.AMBIGUOUS else texts.RELATED
    for ranked in rest[: MAX_SOURCES - 1]:
        is_related = ranked.score >= max(RELATED_RATIO * top_score, RELATED_MIN_SCORE)
        if is_related and ranked.entry is not lead:
            choices.append(Choice(prefix + ranked.entry.title, clause_payload("ans", ranked.entry)))
    sources = tuple(source_of(r.entry, r.score) for r in result.ranked[:MAX_SOURCES])
    return Answer(body, lead.topic, sources, result.handoff, False, tuple(choices))
