"""The neutral message types every channel speaks: one message in, replies out."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from handlers.payloads import Payload, parse_payload

_COMMAND = re.compile(r"^/([a-z_]+)(?:@\w+)?(?:\s+(.*))?$", re.IGNORECASE | re.DOTALL)
# What no text column can store: C0/C1 control characters (a NUL breaks PostgreSQL) and lone
# surrogates (not encodable as UTF-8). Line breaks and tabs are what people type, and stay.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def storable_text(text: str) -> str:
    """`text` without control characters and lone surrogates; CR and CRLF become line breaks."""
    return _UNSTORABLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


class MessageKind(StrEnum):
    TEXT = "text"
    CHOICE = "choice"
    CONTACT = "contact"  # a phone number the person shared with the platform's own button
    UNSUPPORTED = "unsupported"  # stickers, photos, voice without text, locations, files


@dataclass(frozen=True, slots=True)
class Command:
    """`/start chunfeng_xiqing` → name `start`, argument `chunfeng_xiqing`."""

    name: str
    argument: str | None = None


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """What a person sent, whatever the channel: typed text or the payload of a pressed button."""

    user_key: str
    channel: str
    kind: MessageKind = MessageKind.TEXT
    text: str = ""
    message_id: str | None = None
    language: str | None = None
    # Where the channel can reach this person later (a Telegram chat id, a WeChat openid), for
    # notices such as "staff took your case"; kept only where the person consented.
    address: str | None = None

    @property
    def payload(self) -> Payload | None:
        """A pressed button's payload; None for typed text and for anything malformed."""
        return parse_payload(self.text) if self.kind == MessageKind.CHOICE else None

    def storable(self) -> IncomingMessage:
        """The same message with what no database can store taken out (see `storable_text`)."""
        language = storable_text(self.language) if self.language is not None else None
        return replace(self, text=storable_text(self.text), language=language)

    @property
    def command(self) -> Command | None:
        """The slash command a typed message is (`/help@SomeBot` too); None for anything else."""
        if self.kind != MessageKind.TEXT:
            return None
        found = _COMMAND.match(self.text.strip())
        return Command(found.group(1).lower(), found.group(2)) if found else None

    @classmethod
    def typed(
        cls,
        user_key: str,
        channel: str,
        text: str,
        *,
        language: str | None = None,
        address: str | None = None,
    ) -> IncomingMessage:
        return cls(user_key, channel, MessageKind.TEXT, text, language=language, address=address)

    @classmethod
    def pressed(
        cls,
        user_key: str,
        channel: str,
        payload: str,
        *,
        language: str | None = None,
        address: str | None = None,
    ) -> IncomingMessage:
        return cls(
            user_key, channel, MessageKind.CHOICE, payload, language=language, address=address
        )


@dataclass(frozen=True, slots=True)
class Choice:
    """A button (or a numbered line where a channel has no buttons); `payload` ≤ 64 bytes."""

    label: str
    payload: str


@dataclass(frozen=True, slots=True)
class Source:
    """A clause an answer rests on."""

    document: str
    clause: str
    title: str
    score: float
    citation: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One message back to the person."""

    text: str
    choices: tuple[Choice, ...] = ()
    sources: tuple[Source, ...] = ()
    # Offer the platform's "share my phone number" button where it has one.
    asks_phone: bool = False
    # Take away a keyboard an earlier reply put up (e.g. the phone button once a number came).
    hides_keyboard: bool = False

    def converted(self, convert: Callable[[str], str]) -> Reply:
        """The same reply with its text and button labels converted (e.g. to Traditional)."""
        return replace(
            self,
            text=convert(self.text),
            choices=tuple(Choice(convert(c.label), c.payload) for c in self.choices),
        )


@dataclass(frozen=True, slots=True)
class QuestionRecord:
    """What a channel may store about an answered question: numbers, never the text."""

    clause: str | None
    document: str | None
    score: float
    topic: str | None
    fallback: bool
    handoff: bool
    latency_ms: float


@dataclass(frozen=True, slots=True)
class Turn:
    """The dialogue's response to one message, and the numbers of the question it answered."""

    replies: tuple[Reply, ...]
    question: QuestionRecord | None = None
