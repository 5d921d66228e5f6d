"""The matcher the dialogue answers with, behind a small interface: the bot swaps in a rebuilt
one when curators add phrases or synonyms, so answers change without a restart."""

from __future__ import annotations

from typing import Protocol

from knowledge.match import Matcher


class KnowledgeSource(Protocol):
    @property
    def matcher(self) -> Matcher:
        """The matcher in use now."""

    async def latest(self) -> Matcher:
        """The matcher to answer a question with: the one in use, after a cheap look whether a
        newer one is due (a rebuild runs in the background; this never waits for one)."""


class FixedKnowledge:
    """One matcher for the life of the process (the terminal chat, the tests)."""

    def __init__(self, matcher: Matcher) -> None:
        self._matcher = matcher

    @property
    def matcher(self) -> Matcher:
        return self._matcher

    async def latest(self) -> Matcher:
        return self._matcher


def knowledge_source(knowledge: Matcher | KnowledgeSource) -> KnowledgeSource:
    return FixedKnowledge(knowledge) if isinstance(knowledge, Matcher) else knowledge
