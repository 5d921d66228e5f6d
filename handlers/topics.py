"""Browsing by topic: the menu, the clauses under a topic, a clause's explanation and full text."""

from __future__ import annotations

from collections.abc import Callable

from handlers import texts, words
from handlers.answers import (
    MENU_PAYLOAD,
    TOPIC_PAYLOAD_PREFIX,
    clause_payload,
    explain,
    full_text,
    legal_aid_choice,
    menu_choice,
    source_of,
)
from handlers.flow import Flow
from handlers.jobs import start_choice as jobs_start_choice
from handlers.knowledge_source import KnowledgeSource, knowledge_source
from handlers.messages import Choice, IncomingMessage, MessageKind, Reply, Turn
from handlers.payloads import Payload
from handlers.state import ConversationState
from knowledge.match import Matcher

TOPIC_PAYLOAD_KIND = TOPIC_PAYLOAD_PREFIX.removesuffix(":")
# /cancel outside a flow has nothing to cancel: the menu is the way back.
MENU_COMMANDS = frozenset({"topics", "menu", "cancel"})


def topic_menu(prompt: str = texts.TOPICS_PROMPT) -> Reply:
    """The eight topics as buttons."""
    return Reply(
        prompt,
        tuple(Choice(label, TOPIC_PAYLOAD_PREFIX + key) for label, key, _ in texts.MENU),
    )


def topic_clauses(matcher: Matcher, topic_key: str, *, jobs_entry: bool = False) -> Reply | None:
    """The clauses under one menu topic, each a button; None for an unknown key."""
    found = next((item for item in texts.MENU if item[1] == topic_key), None)
    if found is None:
        return None
    label, _, topics = found
    entries = [e for e in matcher.entries if e.topic in topics and e.clause.kind == "item"]
    if not entries:
        return Reply(texts.NO_CLAUSES_FOR_TOPIC, (menu_choice(),))
    choices = [Choice(entry.title, clause_payload("ans", entry)) for entry in entries]
    if "legal_aid" in topics:
        choices.insert(0, legal_aid_choice())
    if jobs_entry and "employment" in topics:
        choices.insert(0, jobs_start_choice())
    choices.append(menu_choice())
    return Reply(texts.TOPIC_CLAUSES_PROMPT.format(label=label), tuple(choices))


def clause_explanation(matcher: Matcher, document_key: str, clause_id: str) -> Reply | None:
    entry = matcher.entry(document_key, clause_id)
    if entry is None:
        return None
    return Reply(
        explain(entry),
        (Choice(texts.VIEW_FULL_TEXT, clause_payload("full", entry)), menu_choice()),
        (source_of(entry, 1.0),),
    )


def clause_full_text(matcher: Matcher, document_key: str, clause_id: str) -> Reply | None:
    entry = matcher.entry(document_key, clause_id)
    if entry is None:
        return None
    return Reply(full_text(entry), (menu_choice(),), (source_of(entry, 1.0),))


class TopicsFlow(Flow):
    """Browsing: 菜单 and /topics, the menu's topic buttons, a clause's 说明 and 查看原文."""

    def __init__(self, knowledge: Matcher | KnowledgeSource, *, jobs_entry: bool = False) -> None:
        self._knowledge = knowledge_source(knowledge)
        # The 找工作·创业 topic offers the job postings when they are wired.
        self._jobs_entry = jobs_entry

    @property
    def _matcher(self) -> Matcher:
        return self._knowledge.matcher

    def is_mine(self, message: IncomingMessage, state: ConversationState) -> bool:
        if message.kind == MessageKind.CHOICE:
            payload = message.payload
            return payload is not None and (
                payload.text == MENU_PAYLOAD
                or payload.kind == TOPIC_PAYLOAD_KIND
                or payload.kind in _CLAUSE_ACTIONS
            )
        command = message.command
        if command is not None:
            return command.name in MENU_COMMANDS
        return (
            message.kind == MessageKind.TEXT
            and words.plain_word(message.text, self._matcher.converter.to_simplified)
            in words.MENU_WORDS
        )

    async def handle(self, message: IncomingMessage, state: ConversationState) -> Turn:
        payload = message.payload
        if payload is None or payload.text == MENU_PAYLOAD:
            return Turn((topic_menu(),))
        return Turn((self._chosen(payload) or Reply(texts.UNKNOWN_CHOICE),))

    def _chosen(self, payload: Payload) -> Reply | None:
        if len(payload.fields) == 1 and payload.kind == TOPIC_PAYLOAD_KIND:
            return topic_clauses(self._matcher, payload.fields[0], jobs_entry=self._jobs_entry)
        if len(payload.fields) == 2 and payload.kind in _CLAUSE_ACTIONS:
            document_key, clause_id = payload.fields
            return _CLAUSE_ACTIONS[payload.kind](self._matcher, document_key, clause_id)
        return None


_CLAUSE_ACTIONS: dict[str, Callable[[Matcher, str, str], Reply | None]] = {
    "ans": clause_explanation,
    "full": clause_full_text,
}
