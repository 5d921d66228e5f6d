"""Browsing by topic: the menu, the clauses under a topic, a clause's explanation and full text."""

from __future__ import annotations

from handlers import texts
from handlers.answers import (
    clause_payload,
    explain,
    full_text,
    legal_aid_choice,
    menu_choice,
    source_of,
)
from handlers.messages import Choice, Reply
from knowledge.match import Matcher

TOPIC_PAYLOAD_PREFIX = "topic:"


def topic_menu(prompt: str = texts.TOPICS_PROMPT) -> Reply:
    """The eight topics as buttons."""
    return Reply(
        prompt,
        tuple(Choice(label, TOPIC_PAYLOAD_PREFIX + key) for label, key, _ in texts.MENU),
    )


def topic_clauses(matcher: Matcher, topic_key: str) -> Reply | None:
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
