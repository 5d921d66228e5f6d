"""The channel-agnostic dialogue: route one neutral message to its flow and return the replies.

Routing order: commands and their plain-word equivalents, then button payloads, then questions.
State (the person's script, Traditional or Simplified) is loaded and saved through the store, so
another process or channel continues the same conversation.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from handlers import texts
from handlers.messages import IncomingMessage, MessageKind, QuestionRecord, Reply, Turn
from handlers.questions import answer_question
from handlers.state import ConversationStore
from handlers.topics import (
    TOPIC_PAYLOAD_PREFIX,
    clause_explanation,
    clause_full_text,
    topic_clauses,
    topic_menu,
)
from knowledge.match import Matcher

_COMMAND = re.compile(r"^/([a-z_]+)(?:@\w+)?(?:\s+(.*))?$", re.IGNORECASE | re.DOTALL)
_MENU_WORDS = frozenset({"菜单", "目录", "主题", "分类", "menu", "topics", "选单", "目錄"})
_HELP_WORDS = frozenset({"帮助", "help", "说明", "怎么用", "幫助", "說明"})
_GREETINGS = frozenset({"你好", "您好", "hi", "hello", "在吗", "在嗎", "嗨", "哈喽"})
_LEGAL_AID_WORDS = re.compile(r"^(找律师|法律援助|人工|人工服务|转人工|找人工|律师|找律師|法律援助申请)$")
SCRIPT_KEY = "script"
TRADITIONAL = "traditional"
SIMPLIFIED = "simplified"


class Dialogue:
    """One instance per process, shared by every channel; holds no per-person state itself."""

    def __init__(self, matcher: Matcher, store: ConversationStore) -> None:
        self._matcher = matcher
        self._store = store

    async def handle(self, message: IncomingMessage) -> Turn:
        state = dict(await self._store.load(message.user_key))
        replies, record = self._route(message, state)
        if state != await self._store.load(message.user_key):
            await self._store.save(message.user_key, state)
        if state.get(SCRIPT_KEY) == TRADITIONAL:
            replies = tuple(self._to_traditional(reply) for reply in replies)
        return Turn(replies, record)

    def _route(
        self, message: IncomingMessage, state: dict[str, object]
    ) -> tuple[tuple[Reply, ...], QuestionRecord | None]:
        if message.kind == MessageKind.UNSUPPORTED:
            return (Reply(texts.UNSUPPORTED_HINT),), None
        if message.kind == MessageKind.CHOICE:
            return (self._choose(message.text),), None
        text = message.text.strip()
        command = _COMMAND.match(text)
        if command:
            return (self._command(command.group(1).lower()),), None
        word = text.lower().rstrip("!！。.?？ ")
        for words, reply in (
            (_MENU_WORDS, topic_menu),
            (_HELP_WORDS, lambda: Reply(texts.HELP)),
            (_GREETINGS, lambda: Reply(texts.WELCOME, topic_menu().choices)),
        ):
            if word in words:
                return (reply(),), None
        if _LEGAL_AID_WORDS.match(word):
            return (Reply(texts.LEGAL_AID_INFO, topic_menu().choices[-1:]),), None
        answer, result, record = answer_question(self._matcher, text)
        if text:
            state[SCRIPT_KEY] = TRADITIONAL if result.is_traditional else SIMPLIFIED
        return (answer.reply,), record

    def _command(self, name: str) -> Reply:
        commands: dict[str, Callable[[], Reply]] = {
            "start": lambda: Reply(texts.WELCOME, topic_menu().choices),
            "help": lambda: Reply(texts.HELP),
            "topics": topic_menu,
            "menu": topic_menu,
            "legalaid": lambda: Reply(texts.LEGAL_AID_INFO),
        }
        return commands.get(name, lambda: Reply(texts.HELP))()

    def _choose(self, payload: str) -> Reply:
        if payload == "menu":
            return topic_menu()
        if payload == "legal":
            return Reply(texts.LEGAL_AID_INFO)
        if payload.startswith(TOPIC_PAYLOAD_PREFIX):
            reply = topic_clauses(self._matcher, payload.removeprefix(TOPIC_PAYLOAD_PREFIX))
            return reply or Reply(texts.UNKNOWN_CHOICE)
        action, _, reference = payload.partition(":")
        document_key, _, clause_id = reference.rpartition(":")
        if action == "ans":
            return clause_explanation(self._matcher, document_key, clause_id) or Reply(
                texts.UNKNOWN_CHOICE
            )
        if action == "full":
            return clause_full_text(self._matcher, document_key, clause_id) or Reply(
                texts.UNKNOWN_CHOICE
            )
        return Reply(texts.UNKNOWN_CHOICE)

    def _to_traditional(self, reply: Reply) -> Reply:
        convert = self._matcher.converter.to_traditional
        return Reply(
            convert(reply.text),
            tuple(type(c)(convert(c.label), c.payload) for c in reply.choices),
            reply.sources,
        )
