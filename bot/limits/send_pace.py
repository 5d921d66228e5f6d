"""Telegram's pace for the whole bot: 30 messages/s overall and one per second within a chat,
for replies, staff cards, worker notices and broadcasts together.

`RedisSendPace` keeps both schedules in Redis (one Lua script, Redis' own clock): each call
reserves the next free slot in the bot-wide schedule and in the chat's at once and says how long
to sleep until it, so every process sending as this bot keeps one pace. A chat's key lives only
until its next slot has passed (a second or so). Slots are strictly spaced
(no bursts), so any one-second window holds at most `messages_per_second` of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from bot.limits.shared_redis import SharedRedis
from bot.settings import BroadcastSettings

MICROSECONDS = 1_000_000
# Telegram: at most 20 messages a minute in one group or channel.
GROUP_SECONDS = 3.0

# KEYS: the bot-wide and the chat's next free slot (µs, Redis clock).
# ARGV: the bot-wide interval and the chat's interval (µs). Returns {slot, now} in µs.
RESERVE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local overall = tonumber(redis.call('GET', KEYS[1]) or '0')
local chat = tonumber(redis.call('GET', KEYS[2]) or '0')
local slot = math.max(now, overall, chat)
local next_overall = slot + tonumber(ARGV[1])
local next_chat = slot + tonumber(ARGV[2])
redis.call('SET', KEYS[1], string.format('%d', next_overall),
           'PX', math.ceil((next_overall - now) / 1000) + 1000)
redis.call('SET', KEYS[2], string.format('%d', next_chat),
           'PX', math.ceil((next_chat - now) / 1000) + 1000)
return {slot, now}
"""

# KEYS: the bot-wide next free slot. ARGV: the pause (µs). Nothing is sent before now + pause.
PAUSE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local overall = tonumber(redis.call('GET', KEYS[1]) or '0')
local until_ = math.max(overall, now + tonumber(ARGV[1]))
redis.call('SET', KEYS[1], string.format('%d', until_), 'PX', math.ceil((until_ - now) / 1000) + 1000)
return until_
"""


@dataclass(frozen=True, slots=True)
class Slot:
    """A reserved send time and the moment it was reserved (seconds, the pace's own clock)."""

    at: float
    reserved_at: float

    @property
    def wait_seconds(self) -> float:
        return max(0.0, self.at - self.reserved_at)


class SendPace(Protocol):
    async def reserve(self, chat_id: int | str) -> Slot:
        """The next slot free both bot-wide and in `chat_id`'s schedule, taken."""
        ...

    async def pause(self, seconds: float) -> None:
        """A 429: nothing bot-wide goes out for `seconds`."""
        ...


def is_group(chat_id: int | str) -> bool:
    """Groups and channels have negative ids or an @username."""
    return isinstance(chat_id, str) or chat_id < 0


def to_microseconds(seconds: float) -> int:
    return math.ceil(seconds * MICROSECONDS)


class RedisSendPace:
    """The pace in Redis, shared by every process that sends as this bot."""

    def __init__(
        self, redis: SharedRedis, *, messages_per_second: float, per_chat_seconds: float
    ) -> None:
        self._redis = redis
        self._overall_us = to_microseconds(1.0 / messages_per_second)
        self._chat_us = to_microseconds(per_chat_seconds)
        self._group_us = to_microseconds(max(per_chat_seconds, GROUP_SECONDS))
        self._reserve = redis.client.register_script(RESERVE_SCRIPT)
        self._pause = redis.client.register_script(PAUSE_SCRIPT)
        self._overall_key = redis.key("pace", "overall")

    @classmethod
    def from_settings(cls, redis: SharedRedis, settings: BroadcastSettings) -> RedisSendPace:
        """At the broadcasts' rate (a little under Telegram's 30/s) and per-chat gap."""
        return cls(
            redis,
            messages_per_second=settings.messages_per_second,
            per_chat_seconds=settings.per_chat_seconds,
        )

    async def reserve(self, chat_id: int | str) -> Slot:
        interval = self._group_us if is_group(chat_id) else self._chat_us
        slot, now = await self._reserve(
            keys=[self._overall_key, self._redis.key("pace", "chat", str(chat_id))],
            args=[self._overall_us, interval],
        )
        return Slot(int(slot) / MICROSECONDS, int(now) / MICROSECONDS)

    async def wait_seconds(self, chat_id: int | str) -> float:
        """Reserve a slot for `chat_id`; how long to sleep before sending in it."""
        return (await self.reserve(chat_id)).wait_seconds

    async def pause(self, seconds: float) -> None:
        await self._pause(keys=[self._overall_key], args=[to_microseconds(seconds)])
