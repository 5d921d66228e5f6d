"""The channel-agnostic dialogue: route one neutral message to its flow and return the replies.

Routing order: commands and their plain-word equivalents, then button payloads, then questions.
State (the person's script, the last question awaiting feedback) is loaded and saved through the
store, so another process or channel continues the same conversation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from handlers import texts
from handlers.campaigns import CampaignNotices, add_campaign_notices
from handlers.feedback import FEEDBACK_PREFIX, feedback_choices, record_feedback, remember_question
from handlers.messages import Choice, IncomingMessage, MessageKind, QuestionRecord, Reply, Turn
from handlers.questions import answer_question
from handlers.state import DialogueStore
from handlers.subscriptions import Subscriptions
from handlers.topics import (
    TOPIC_PAYLOAD_PREFIX,
    clause_explanation,
    clause_full_text,
    topic_clauses,
    topic_menu,
)
from knowledge.match import Matcher

_COMMAND = re.compile(r"^/([a-z_]+)(?:@\w+)?(?:\s+(.*))?$", re.IGNORECASE | re.DOTALL)
_MENU_WORDS = frozenset({"菜单", "目录", "主题", "分类", "menu", "topics", "选单"})
_HELP_WORDS = frozenset({"帮助", "help", "说明", "怎么用", "使用说明"})
_GREETINGS = frozenset({"你好", "您好", "hi", "hello", "在吗", "嗨", "哈喽", "在不在"})
_LEGAL_AID_WORDS = frozenset(
    {
        "找律师",
        "法律援助",
        "人工",
        "人工服务",
        "转人工",
        "找人工",
        "律师",
        "申请法律援助",
        "legal aid",
    }
)
# Deep-link payloads: Telegram allows A–Z a–z 0–9 _ - and at most 64 characters.
_DEEP_LINK_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SCRIPT_KEY = "script"
TRADITIONAL = "traditional"
SIMPLIFIED = "simplified"
KNOWN_KEY = "known"


class Dialogue:
    """One instance per process, shared by every channel; holds no per-person state itself."""

    def __init__(
        self,
        matcher: Matcher,
        store: DialogueStore,
        *,
        feedback: bool = True,
        subscriptions: Subscriptions | None = None,
        campaigns: CampaignNotices | None = None,
    ) -> None:
        self._matcher = matcher
        self._store = store
        self._feedback = feedback
        self._subscriptions = subscriptions
        self._campaigns = campaigns

    async def handle(self, message: IncomingMessage) -> Turn:
        loaded = await self._store.load_state(message.user_key)
        state: dict[str, Any] = dict(loaded)
        if not state.get(KNOWN_KEY):
            await self._store.touch_user(
                message.user_key, message.channel, language=message.language, source=None
            )
            state[KNOWN_KEY] = True
        replies, record = await self._route(message, state)
        if state != loaded:
            await self._store.save_state(message.user_key, state)
        if state.get(SCRIPT_KEY) == TRADITIONAL:
            replies = tuple(self._to_traditional(reply) for reply in replies)
        return Turn(replies, record)

    async def _route(
        self, message: IncomingMessage, state: dict[str, Any]
    ) -> tuple[tuple[Reply, ...], QuestionRecord | None]:
        if message.kind in (MessageKind.UNSUPPORTED, MessageKind.CONTACT):
            return (Reply(texts.UNSUPPORTED_HINT),), None
        subscription = self._subscriptions and await self._subscriptions.reply_to(message)
        if subscription:
            return (subscription,), None
        if message.kind == MessageKind.CHOICE:
            return (await self._choose(message, state),), None
        text = message.text.strip()
        command = _COMMAND.match(text)
        if command:
            return (await self._command(message, command.group(1).lower(), command.group(2)),), None
        word = text.lower().rstrip("!！。.?？~～ ")
        fixed_replies: dict[frozenset[str], Callable[[], Reply]] = {
            _MENU_WORDS: topic_menu,
            _HELP_WORDS: lambda: Reply(texts.HELP, (topic_menu().choices)),
            _GREETINGS: lambda: Reply(texts.WELCOME, topic_menu().choices),
            _LEGAL_AID_WORDS: lambda: Reply(texts.LEGAL_AID_INFO),
        }
        simplified_word = self._matcher.converter.to_simplified(word)
        for words, reply in fixed_replies.items():
            if simplified_word in words:
                self._remember_script(state, text)
                return (reply(),), None
        return await self._question(message, text, state)

    async def _question(
        self, message: IncomingMessage, text: str, state: dict[str, Any]
    ) -> tuple[tuple[Reply, ...], QuestionRecord]:
        answer, result, record = answer_question(self._matcher, text)
        state[SCRIPT_KEY] = TRADITIONAL if result.is_traditional else SIMPLIFIED
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
        return (reply,), record

    async def _command(self, message: IncomingMessage, name: str, argument: str | None) -> Reply:
        if name == "start":
            payload = (argument or "").strip()
            if payload and _DEEP_LINK_PAYLOAD.match(payload):
                await self._store.touch_user(
                    message.user_key, message.channel, language=message.language, source=payload
                )
            return Reply(texts.WELCOME, topic_menu().choices)
        commands: dict[str, Callable[[], Reply]] = {
            "help": lambda: Reply(texts.HELP, topic_menu().choices),
            "topics": topic_menu,
            "menu": topic_menu,
            "legalaid": lambda: Reply(texts.LEGAL_AID_INFO),
        }
        return commands.get(name, lambda: Reply(texts.HELP))()

    async def _choose(self, message: IncomingMessage, state: dict[str, Any]) -> Reply:
        payload = message.text
        if payload == "menu":
            return topic_menu()
        if payload == "legal":
            return Reply(texts.LEGAL_AID_INFO)
        if payload.startswith(FEEDBACK_PREFIX):
            return await record_feedback(self._store, message.user_key, payload, state)
        if payload.startswith(TOPIC_PAYLOAD_PREFIX):
            reply = topic_clauses(self._matcher, payload.removeprefix(TOPIC_PAYLOAD_PREFIX))
            return reply or Reply(texts.UNKNOWN_CHOICE)
        action, _, reference = payload.partition(":")
        document_key, _, clause_id = reference.rpartition(":")
        show = {"ans": clause_explanation, "full": clause_full_text}.get(action)
        reply = show(self._matcher, document_key, clause_id) if show else None
        return reply or Reply(texts.UNKNOWN_CHOICE)

    def _remember_script(self, state: dict[str, Any], text: str) -> None:
        if self._matcher.converter.is_traditional(text):
            state[SCRIPT_KEY] = TRADITIONAL

    def _to_traditional(self, reply: Reply) -> Reply:
        convert = self._matcher.converter.to_traditional
        return Reply(
            convert(reply.text),
            tuple(Choice(convert(choice.label), choice.payload) for choice in reply.choices),
            reply.sources,
        )
