"""Campaign news by explicit opt-in: /subscribe (buttons narrow it to topics), /unsubscribe or 退订.

Only people who subscribed ever get a broadcast. Where the channel can reach them (a Telegram chat
id) is kept only while they subscribe; the store deletes it when they unsubscribe.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from handlers import texts, words
from handlers.flow import Flow
from handlers.messages import Choice, IncomingMessage, MessageKind, Reply, Turn
from handlers.state import ConversationState

SUBSCRIPTION_KIND = "sub"
SUBSCRIPTION_PREFIX = SUBSCRIPTION_KIND + ":"
ALL_TOPICS = "all"
STOP = "off"
# Only the bare commands: `/subscribe something` is an unknown command (it gets the help).
_COMMAND = re.compile(r"^/(subscribe|unsubscribe)(?:@\w+)?\s*$", re.IGNORECASE)


class SubscriptionStore(Protocol):
    """Who opted in, to which menu topics, and where to reach them."""

    async def subscribe(
        self, user_key: str, channel: str, *, address: str, topics: Sequence[str]
    ) -> None:
        """Opt in (again) with these topics; an empty list means every topic."""

    async def subscribed_topics(self, user_key: str) -> Sequence[str] | None:
        """The person's topics ([] = all), or None when they are not subscribed."""

    async def unsubscribe(self, user_key: str) -> bool:
        """Opt out and forget the address; False when they were not subscribed."""


def subscription_choices() -> tuple[Choice, ...]:
    topics = tuple(
        Choice(texts.SUBSCRIBE_TOPIC_LABEL.format(label=label), SUBSCRIPTION_PREFIX + key)
        for label, key, _ in texts.MENU
    )
    return (
        *topics,
        Choice(texts.SUBSCRIBE_ALL_LABEL, SUBSCRIPTION_PREFIX + ALL_TOPICS),
        Choice(texts.SUBSCRIBE_STOP_LABEL, SUBSCRIPTION_PREFIX + STOP),
    )


def menu_labels(keys: Sequence[str]) -> str:
    return texts.LIST_SEPARATOR.join(label for label, key, _ in texts.MENU if key in keys)


def _is_subscribe(message: IncomingMessage) -> bool:
    command = _COMMAND.match(message.text.strip())
    if command:
        return command.group(1).lower() == "subscribe"
    return words.subscription_word(message.text) in words.SUBSCRIBE_WORDS


def _is_unsubscribe(message: IncomingMessage) -> bool:
    command = _COMMAND.match(message.text.strip())
    if command:
        return command.group(1).lower() == "unsubscribe"
    return words.subscription_word(message.text) in words.UNSUBSCRIBE_WORDS


class Subscriptions(Flow):
    """The subscription flow: /subscribe, /unsubscribe, their words and the `sub:` buttons."""

    def __init__(
        self, store: SubscriptionStore, *, broadcast_channels: frozenset[str] | None = None
    ) -> None:
        self._store = store
        # Channels broadcasts are actually sent on (None: every channel that gives an address),
        # so nobody is told "subscribed" where news would never reach them.
        self._broadcast_channels = broadcast_channels

    def is_mine(self, message: IncomingMessage, state: ConversationState) -> bool:
        if message.kind == MessageKind.CHOICE:
            payload = message.payload
            return payload is not None and payload.kind == SUBSCRIPTION_KIND
        if message.kind != MessageKind.TEXT:
            return False
        return _is_subscribe(message) or _is_unsubscribe(message)

    async def handle(self, message: IncomingMessage, state: ConversationState) -> Turn:
        payload = message.payload
        if payload is not None:
            key = payload.field(0) if len(payload.fields) == 1 else None
            return Turn((await self._choose(message, key or ""),))
        if _is_subscribe(message):
            return Turn((await self._subscribe(message, ()),))
        return Turn((await self._unsubscribe(message),))

    async def _choose(self, message: IncomingMessage, key: str) -> Reply:
        if key == STOP:
            return await self._unsubscribe(message)
        if key == ALL_TOPICS:
            return await self._subscribe(message, (), reply_text=texts.WIDENED)
        if key not in {menu_key for _, menu_key, _ in texts.MENU}:
            return Reply(texts.UNKNOWN_CHOICE)
        current = await self._store.subscribed_topics(message.user_key)
        # The first topic pressed narrows "everything" down; later presses add to the list.
        topics = [*current, key] if current else [key]
        topics = sorted(set(topics), key=[k for _, k, _ in texts.MENU].index)
        return await self._subscribe(
            message, topics, reply_text=texts.NARROWED.format(labels=menu_labels(topics))
        )

    async def _subscribe(
        self, message: IncomingMessage, topics: Sequence[str], *, reply_text: str = texts.SUBSCRIBED
    ) -> Reply:
        reachable = self._broadcast_channels is None or message.channel in self._broadcast_channels
        if not message.address or not reachable:
            return Reply(texts.SUBSCRIPTION_UNREACHABLE)
        await self._store.subscribe(
            message.user_key, message.channel, address=message.address, topics=topics
        )
        return Reply(reply_text, subscription_choices())

    async def _unsubscribe(self, message: IncomingMessage) -> Reply:
        was_subscribed = await self._store.unsubscribe(message.user_key)
        return Reply(texts.UNSUBSCRIBED if was_subscribed else texts.NOT_SUBSCRIBED)


class MemorySubscriptionStore:
    """One process's subscriptions: for the terminal chat and tests."""

    def __init__(self) -> None:
        self.subscribers: dict[str, tuple[str, str, list[str]]] = {}

    async def subscribe(
        self, user_key: str, channel: str, *, address: str, topics: Sequence[str]
    ) -> None:
        self.subscribers[user_key] = (channel, address, list(topics))

    async def subscribed_topics(self, user_key: str) -> Sequence[str] | None:
        found = self.subscribers.get(user_key)
        return list(found[2]) if found else None

    async def unsubscribe(self, user_key: str) -> bool:
        return self.subscribers.pop(user_key, None) is not None
