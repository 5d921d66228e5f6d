"""The channel-agnostic dialogue: route one neutral message to its flow and return the replies.

Routing order: commands and their plain-word equivalents, then button payloads, then questions.
State (the person's script, the last question awaiting feedback) is loaded and saved through the
store, so another process or channel continues the same conversation.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from handlers import texts
from handlers.campaigns import CampaignNotices, add_campaign_notices
from handlers.feedback import FEEDBACK_PREFIX, feedback_choices, record_feedback, remember_question
from handlers.legal_aid import FORGET_KEY, LegalAidFlow
from handlers.legal_aid import PAYLOAD_PREFIX as LEGAL_AID_PAYLOAD_PREFIX
from handlers.messages import IncomingMessage, MessageKind, QuestionRecord, Reply, Turn
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
# "我要找律师" means 找律师: polite or wanting openings don't change which fixed word was meant.
_REQUEST_PREFIX = re.compile(r"^(?:请|麻烦)?(?:帮我|给我|我要|我想要|我想|我需要|我得|俺要|俺想)?")
# Deep-link payloads: Telegram allows A–Z a–z 0–9 _ - and at most 64 characters.
_DEEP_LINK_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SCRIPT_KEY = "script"
TRADITIONAL = "traditional"
SIMPLIFIED = "simplified"
KNOWN_KEY = "known"
LEGAL_AID_TOPIC_KEY = "legal"


def _as_tuple(replies: Reply | tuple[Reply, ...]) -> tuple[Reply, ...]:
    return replies if isinstance(replies, tuple) else (replies,)


class Dialogue:
    """One instance per process, shared by every channel; holds no per-person state itself."""

    def __init__(
        self,
        matcher: Matcher,
        store: DialogueStore,
        *,
        feedback: bool = True,
        legal_aid: LegalAidFlow | None = None,
        subscriptions: Subscriptions | None = None,
        campaigns: CampaignNotices | None = None,
    ) -> None:
        self._matcher = matcher
        self._store = store
        self._feedback = feedback
        # Without a case desk (no database) legal aid is information only.
        self._legal_aid = legal_aid
        self._subscriptions = subscriptions
        self._campaigns = campaigns

    async def handle(self, message: IncomingMessage) -> Turn:
        loaded = await self._store.load_state(message.user_key)
        # A deep copy: flows change nested values, and `state != loaded` decides the save.
        state: dict[str, Any] = copy.deepcopy(dict(loaded))
        if not state.get(KNOWN_KEY):
            await self._store.touch_user(
                message.user_key, message.channel, language=message.language, source=None
            )
            state[KNOWN_KEY] = True
        if message.kind == MessageKind.TEXT:
            self._remember_script(state, message.text)
        replies, record = await self._route(message, state)
        if state != loaded:
            await self._store.save_state(message.user_key, state)
        if state.get(SCRIPT_KEY) == TRADITIONAL:
            convert = self._matcher.converter.to_traditional
            replies = tuple(reply.converted(convert) for reply in replies)
        return Turn(replies, record)

    async def _route(
        self, message: IncomingMessage, state: dict[str, Any]
    ) -> tuple[tuple[Reply, ...], QuestionRecord | None]:
        flow = self._legal_aid
        expired = flow.expire(state) if flow else None
        notices: tuple[Reply, ...] = (expired,) if expired else ()
        text = message.text.strip()
        command = _COMMAND.match(text) if message.kind == MessageKind.TEXT else None
        if flow is not None and flow.is_active(state):
            if command is None and (
                message.kind != MessageKind.CHOICE or text.startswith(LEGAL_AID_PAYLOAD_PREFIX)
            ):
                return _as_tuple(await flow.handle(message, state)), None
            name = command.group(1).lower() if command else ""
            if name == "legalaid":
                return (flow.start(state),), None
            if command is not None and name != "mycase":
                left = flow.leave(state)
                notices += (left,) if left else ()
        if flow is not None and flow.is_forget_answer(message, state):
            return (*notices, await flow.answer_forget(message, state)), None
        state.pop(FORGET_KEY, None)
        if message.kind in (MessageKind.UNSUPPORTED, MessageKind.CONTACT):
            return (*notices, Reply(texts.UNSUPPORTED_HINT)), None
        subscription = self._subscriptions and await self._subscriptions.reply_to(message)
        if subscription:
            return (*notices, subscription), None
        if message.kind == MessageKind.CHOICE:
            return (*notices, await self._choose(message, state)), None
        if command:
            reply = await self._command(message, command.group(1).lower(), command.group(2), state)
            return (*notices, reply), None
        word = text.lower().rstrip("!！。.?？~～ ")
        fixed_replies: dict[frozenset[str], Callable[[], Reply]] = {
            _MENU_WORDS: topic_menu,
            _HELP_WORDS: lambda: Reply(texts.HELP, (topic_menu().choices)),
            _GREETINGS: lambda: Reply(texts.WELCOME, topic_menu().choices),
            _LEGAL_AID_WORDS: lambda: self._legal_aid_entry(state),
        }
        simplified_word = _REQUEST_PREFIX.sub("", self._matcher.converter.to_simplified(word))
        for words, make_reply in fixed_replies.items():
            if simplified_word in words:
                return (*notices, make_reply()), None
        replies, record = await self._question(message, text, state)
        return (*notices, *replies), record

    def _legal_aid_entry(self, state: dict[str, Any]) -> Reply:
        """The referral where there is a case desk; the ways to reach legal aid otherwise."""
        if self._legal_aid is None:
            return Reply(texts.LEGAL_AID_INFO)
        return self._legal_aid.start(state)

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

    async def _command(
        self, message: IncomingMessage, name: str, argument: str | None, state: dict[str, Any]
    ) -> Reply:
        if name == "start":
            payload = (argument or "").strip()
            if payload and _DEEP_LINK_PAYLOAD.match(payload):
                await self._store.touch_user(
                    message.user_key, message.channel, language=message.language, source=payload
                )
            return Reply(texts.WELCOME, topic_menu().choices)
        flow = self._legal_aid
        if flow is not None and name == "mycase":
            return await flow.my_cases(message.user_key)
        if flow is not None and name == "forget":
            return flow.ask_forget(state)
        commands: dict[str, Callable[[], Reply]] = {
            "help": lambda: Reply(texts.HELP, topic_menu().choices),
            "topics": topic_menu,
            "menu": topic_menu,
            "legalaid": lambda: self._legal_aid_entry(state),
            "cancel": topic_menu,
        }
        return commands.get(name, lambda: Reply(texts.HELP))()

    async def _choose(self, message: IncomingMessage, state: dict[str, Any]) -> Reply:
        payload = message.text
        if payload == "menu":
            return topic_menu()
        if payload in ("legal", TOPIC_PAYLOAD_PREFIX + LEGAL_AID_TOPIC_KEY):
            return self._legal_aid_entry(state)
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
