"""What every channel provides, and what it is given: the small base the registry lists.

A channel is a sub-package of `bot/channels/` with one `ChannelSpec` registered in
`bot/channels/registry.py`. The spec says what the dialogue needs to know before any channel is
built (where staff cards go, who the staff are, whether broadcasts go out through it); `build`
turns the wired application (`ChannelDeps`) into the parts the server or the CLI runs
(`ChannelParts`), or None when the channel is not configured.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Engine
from starlette.routing import BaseRoute

from bot.channels.outbox import OutboxTransport
from bot.limits.shared_redis import SharedRedis
from bot.settings import Settings
from bot.storage.case_desk import StaffChat
from bot.storage.channel_store import ChannelStore
from bot.user_keys import UserKeyHasher
from handlers.casework import Casework
from handlers.messages import IncomingMessage, Turn
from knowledge.normalizer import ScriptConverter

Hook = Callable[[], Awaitable[None]]
Loop = Callable[[], Coroutine[Any, Any, None]]


class Conversation(Protocol):
    """What a channel hands a message to: the dialogue (as the application observes it)."""

    async def handle(self, message: IncomingMessage) -> Turn: ...

    def turn(self, user_key: str) -> AbstractAsyncContextManager[None]:
        """The person's turn, for a channel that stores its own rows with the dialogue's in one
        transaction (a `handle` inside it joins it)."""
        ...


class ChannelConfigError(Exception):
    """The channel's settings cannot work (the message says what to set); the CLI stops on it."""


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How the channel that runs on its own (no shared server) listens, and what runs beside it."""

    listen: str
    port: int | None
    # The housekeeping round, run at start and then periodically while the channel runs.
    housekeeping: Hook | None = None


@dataclass(frozen=True, slots=True)
class ChannelDeps:
    """The wired application as a channel sees it (built by `bot.app`)."""

    settings: Settings
    engine: Engine
    dialogue: Conversation
    user_keys: UserKeyHasher
    casework: Casework
    converter: ScriptConverter
    store: ChannelStore
    # Runs the outbox sender for a transport until cancelled (woken when the case desk queues).
    send_outbox: Callable[[OutboxTransport], Coroutine[Any, Any, None]]
    # Whether the channel is to run on its own (`policybot run`) instead of on the shared server.
    alone: bool = False
    # The public webhook URL given on the command line (Telegram's), if any.
    webhook_url: str | None = None
    # With `[redis] url`: the limits every process shares (else each channel counts alone).
    redis: SharedRedis | None = None


@dataclass
class ChannelParts:
    """One built channel: what the shared server mounts, starts and stops for it."""

    name: str
    routes: list[BaseRoute] = field(default_factory=list)
    # Its way out for the outbox (notices, staff cards); the server runs a sender for it.
    transport: OutboxTransport | None = None
    # Background loops while the server runs (cancelled at shutdown).
    tasks: list[Loop] = field(default_factory=list)
    startup: list[Hook] = field(default_factory=list)
    # Run in order at shutdown, after the background loops stopped.
    shutdown: list[Hook] = field(default_factory=list)
    # Added to the housekeeping round (synchronous, run in a worker thread).
    upkeep: list[Callable[[], object]] = field(default_factory=list)
    # A line for the operator at start; "{base}" becomes the server's address.
    notice: str | None = None
    # Runs the channel on its own until stopped (Telegram's long polling or its own webhook).
    run_alone: Callable[[RunOptions], None] | None = None


def no_staff_chat(_settings: Settings) -> StaffChat | None:
    return None


def no_staff(_settings: Settings) -> frozenset[str]:
    return frozenset()


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    """A channel as the registry lists it."""

    name: str
    build: Callable[[ChannelDeps], ChannelParts | None]
    # Where legal-aid case cards go, if through this channel.
    staff_chat: Callable[[Settings], StaffChat | None] = no_staff_chat
    # Staff ids ("channel:platform id") allowed to act on case cards.
    staff_ids: Callable[[Settings], frozenset[str]] = no_staff
    # Broadcasts go out through it, so subscribing makes sense there.
    sends_broadcasts: bool = False
