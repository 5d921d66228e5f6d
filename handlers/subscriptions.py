"""Campaign news by explicit opt-in: /subscribe (buttons narrow it to topics), /unsubscribe or 退订.

Only people who subscribed ever get a broadcast. Where the channel can reach them (a Telegram chat
id) is kept only while they subscribe; the store deletes it when they unsubscribe.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from handlers import texts
from handlers.messages import Choice, IncomingMessage, MessageKind, Reply

SUBSCRIPTION_PREFIX = "sub:"
ALL_TOPICS = "all"
STOP = "off"
_COMMAND = re.compile(r"^/(subscribe|unsubscribe)(?:@\w+)?\s*$", re.IGNORECASE)
# Traditional spellings too: these words are matched before the dialogue converts anything.
SUBSCRIBE_WORDS = frozenset({"订阅", "订阅消息", "订阅活动", "訂閱", "subscribe"})
UNSUBSCRIBE_WORDS = frozenset(
    {"退订", "取消订阅", "不要再发", "退訂", "取消訂閱", "不要再發", "unsubscribe", "td"}
)
SUBSCRIBED = "已订阅春风行动、春暖农民工等活动消息，有招聘会、服务活动会发给你。\n只想收某一类？点下面。随时回复“退订”就不再发。"
NARROWED = "好的，只给你发这些方面的活动消息：{labels}。\n随时回复“退订”就不再发。"
WIDENED = "好的，各方面的活动消息都会发给你。随时回复“退订”就不再发。"
UNSUBSCRIBED = "已退订，不会再给你发活动消息。想再收，发 /subscribe。"
NOT_SUBSCRIBED = "你没有订阅活动消息。想收，发 /subscribe。"
UNREACHABLE = "这里暂时不能推送消息。请在 Telegram 里找我订阅。"
ALL_LABEL = "全部都收"
STOP_LABEL = "退订"
TOPIC_LABEL = "只收：{label}"


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
        Choice(TOPIC_LABEL.format(label=label), SUBSCRIPTION_PREFIX + key)
        for label, key, _ in texts.MENU
    )
    return (
        *topics,
        Choice(ALL_LABEL, SUBSCRIPTION_PREFIX + ALL_TOPICS),
        Choice(STOP_LABEL, SUBSCRIPTION_PREFIX + STOP),
    )


def menu_labels(keys: Sequence[str]) -> str:
    return "、".join(label for label, key, _ in texts.MENU if key in keys)


class Subscriptions:
    """The subscription flow; `reply_to` answers only the messages that belong to it."""

    def __init__(
        self, store: SubscriptionStore, *, broadcast_channels: frozenset[str] | None = None
    ) -> None:
        self._store = store
        # Channels broadcasts are actually sent on (None: every channel that gives an address),
        # so nobody is told "subscribed" where news would never reach them.
        self._broadcast_channels = broadcast_channels

    async def reply_to(self, message: IncomingMessage) -> Reply | None:
        if message.kind == MessageKind.CHOICE:
            if not message.text.startswith(SUBSCRIPTION_PREFIX):
                return None
            return await self._choose(message, message.text.removeprefix(SUBSCRIPTION_PREFIX))
        if message.kind != MessageKind.TEXT:
            return None
        text = message.text.strip()
        command = _COMMAND.match(text)
        word = text.lower().rstrip("!！。.~～ ")
        if (command and command.group(1).lower() == "subscribe") or word in SUBSCRIBE_WORDS:
            return await self._subscribe(message, ())
        if command or word in UNSUBSCRIBE_WORDS:
            return await self._unsubscribe(message)
        return None

    async def _choose(self, message: IncomingMessage, key: str) -> Reply:
        if key == STOP:
            return await self._unsubscribe(message)
        if key == ALL_TOPICS:
            return await self._subscribe(message, (), reply_text=WIDENED)
        if key not in {menu_key for _, menu_key, _ in texts.MENU}:
            return Reply(texts.UNKNOWN_CHOICE)
        current = await self._store.subscribed_topics(message.user_key)
        # The first topic pressed narrows "everything" down; later presses add to the list.
        topics = [*current, key] if current else [key]
        topics = sorted(set(topics), key=[k for _, k, _ in texts.MENU].index)
        return await self._subscribe(
            message, topics, reply_text=NARROWED.format(labels=menu_labels(topics))
        )

    async def _subscribe(
        self, message: IncomingMessage, topics: Sequence[str], *, reply_text: str = SUBSCRIBED
    ) -> Reply:
        reachable = self._broadcast_channels is None or message.channel in self._broadcast_channels
        if not message.address or not reachable:
            return Reply(UNREACHABLE)
        await self._store.subscribe(
            message.user_key, message.channel, address=message.address, topics=topics
        )
        return Reply(reply_text, subscription_choices())

    async def _unsubscribe(self, message: IncomingMessage) -> Reply:
        was_subscribed = await self._store.unsubscribe(message.user_key)
        return Reply(UNSUBSCRIBED if was_subscribed else NOT_SUBSCRIBED)


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
