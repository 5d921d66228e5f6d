"""Questions and answers: one typed question → the engine once → a cited, phone-sized answer."""

from __future__ import annotations

import time

from handlers.answers import Answer, compose_answer
from handlers.campaigns import CampaignNotices, add_campaign_notices
from handlers.feedback import feedback_choices, remember_question
from handlers.flow import Flow
from handlers.knowledge_source import KnowledgeSource, knowledge_source
from handlers.messages import IncomingMessage, QuestionRecord, Reply, Turn
from handlers.state import ConversationState, DialogueStore, Script
from knowledge.match import Matcher, MatchResult
from knowledge.match_cache import MatchCache


def answer_question(
    matcher: Matcher, question: str, *, results: MatchCache[Answer] | None = None
) -> tuple[Answer, MatchResult, QuestionRecord]:
    """The answer, the engine's result behind it, and the numbers a channel may log or store."""
    started = time.perf_counter()
    if results is not None:
        result, answer = results.match(matcher, question)
    else:
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


class QuestionFlow(Flow):
    """The last flow: every typed message no other flow took is a question for the engine."""

    def __init__(
        self,
        knowledge: Matcher | KnowledgeSource,
        store: DialogueStore,
        *,
        feedback: bool = True,
        campaigns: CampaignNotices | None = None,
    ) -> None:
        self._knowledge = knowledge_source(knowledge)
        self._store = store
        self._feedback = feedback
        self._campaigns = campaigns
        self._results = MatchCache(compose_answer)

    def is_mine(self, message: IncomingMessage, state: ConversationState) -> bool:
        return True

    async def handle(self, message: IncomingMessage, state: ConversationState) -> Turn:
        text = message.text.strip()
        answer, result, record = answer_question(
            await self._knowledge.latest(), text, results=self._results
        )
        state.script = Script.TRADITIONAL if result.is_traditional else Script.SIMPLIFIED
        reply = await add_campaign_notices(self._campaigns, answer.reply, answer.topic)
        if self._feedback and not answer.fallback:
            question_id = await self._store.record_question(
                message.user_key, message.channel, record, text=None
            )
            remember_question(state, question_id, text)
            reply = Reply(reply.text, reply.choices + feedback_choices(question_id), reply.sources)
        elif self._feedback:
            # Unanswered questions are kept (for the retention period) to grow the knowledge base.
            await self._store.record_question(message.user_key, message.channel, record, text=text)
        return Turn((reply,), record)
