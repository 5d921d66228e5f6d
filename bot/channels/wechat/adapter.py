"""The WeChat Official Account channel: the 公众号 callback in, one text reply out.

Input half: a signed (and in compat/safe mode encrypted) XML message or event becomes the neutral
`IncomingMessage` (user key = HMAC of the openid, address = the openid); a bare number picks one
of the choices last shown as numbered lines. Output half: the turn's replies become one text of at
most 2,048 bytes (see `replies.py`).

WeChat waits 5 seconds and retries the same message up to three times, so every message is
claimed once in the database: a retry (in any process) gets the first delivery's stored reply,
and an answer that misses the budget is answered with "success" now and sent later as a
customer-service message.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import unicodedata
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot.channels.base import Conversation
from bot.channels.key_locks import KeyLocks
from bot.channels.request_body import read_capped_body
from bot.channels.wechat import xml
from bot.channels.wechat.crypto import (
    MessageCipher,
    WechatCryptoError,
    is_valid_signature,
    signature,
)
from bot.channels.wechat.receipts import WechatStore
from bot.channels.wechat.recent_replies import RecentReplies
from bot.channels.wechat.replies import MORE_PAYLOAD, WechatPage, compose, next_page
from bot.channels.wechat.xml import UnsafeXmlError, parse_fields
from bot.events import log_event
from bot.settings import WechatMode
from bot.storage.repositories.wechat_receipts import RECEIPT_RETENTION
from bot.user_keys import UserKeyHasher
from handlers.messages import Choice, IncomingMessage, MessageKind

CHANNEL = "wechat"
SUCCESS = "success"  # WeChat's "no reply, and don't retry"
# How often a retry looks for the first delivery's reply while that one is still being answered.
RETRY_POLL_SECONDS = 0.05
# QR codes with a parameter send the subscribe event's EventKey as "qrscene_<parameter>".
QR_SCENE_PREFIX = "qrscene_"
# Menu keys starting with "/" are commands (/help, /legalaid); the others are button payloads.
COMMAND_PREFIX = "/"

# Unix seconds for the next few thousand years; anything longer is not a timestamp.
TIMESTAMP_DIGITS = 12
# Sends a late answer: (openid, text). The customer-service client in production.
LateSender = Callable[[str, str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class WechatConfig:
    token: str
    mode: WechatMode
    reply_budget_seconds: float
    cipher: MessageCipher | None  # compat and safe mode
    # How far a request's signed timestamp may be from our clock, either way.
    timestamp_window: timedelta = timedelta(seconds=300)

    @property
    def receipt_retention(self) -> timedelta:
        """A request is accepted up to a window either side of its timestamp, so its receipt must
        last two windows for every replay within them to meet it."""
        return max(RECEIPT_RETENTION, 2 * self.timestamp_window)


def is_fresh(timestamp: str, window: timedelta, now: float) -> bool:
    """A signed timestamp (Unix seconds, ASCII digits) within `window` of `now`."""
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= TIMESTAMP_DIGITS):
        return False
    return abs(now - int(timestamp)) <= window.total_seconds()


# The message types and events WeChat documents: what the log may name (anything else is
# outside text, and logged as "other").
MESSAGE_TYPES = frozenset({"text", "image", "voice", "video", "shortvideo", "location", "link",
                           "file", "event"})  # fmt: skip
EVENTS = frozenset({"subscribe", "unsubscribe", "scan", "location", "click", "view"})
OTHER = "other"


@dataclass(frozen=True, slots=True)
class Received:
    """One callback, decoded: what to hand the dialogue (None: nothing to answer)."""

    incoming: IncomingMessage | None
    dedupe_key: str
    kind: str  # a documented type or event, or OTHER: it goes into the log


def to_choice_number(text: str, choices: tuple[Choice, ...]) -> Choice | None:
    """The choice a bare number (half- or full-width) picks, if it is one of those shown."""
    digits = unicodedata.normalize("NFKC", text).strip()
    if digits.isdecimal() and digits.isascii() and 1 <= int(digits) <= len(choices):
        return choices[int(digits) - 1]
    return None


def decode(fields: Mapping[str, str], user_key: str, openid: str) -> Received:
    """The neutral message (or None) for a decrypted callback, and its de-duplication key."""
    kind = fields.get("MsgType", "")
    message_id = fields.get("MsgId") or fields.get("CreateTime", "")

    def message(kind_: MessageKind, text: str = "") -> IncomingMessage:
        return IncomingMessage(
            user_key, CHANNEL, kind_, text, message_id=message_id or None, address=openid
        )

    if kind == "event":
        event = fields.get("Event", "").lower()
        logged = event if event in EVENTS else OTHER
        key = fields.get("EventKey", "")
        # WeChat: de-duplicate events on sender + CreateTime; the event and key tell apart two
        # different taps within one second.
        dedupe = f"event:{user_key}:{fields.get('CreateTime', '')}:{event}:{key}"
        if event == "subscribe":
            scene = key.removeprefix(QR_SCENE_PREFIX) if key.startswith(QR_SCENE_PREFIX) else ""
            return Received(message(MessageKind.TEXT, f"/start {scene}".strip()), dedupe, logged)
        if event == "click" and key:
            if key.startswith(COMMAND_PREFIX):
                return Received(message(MessageKind.TEXT, key), dedupe, logged)
            return Received(message(MessageKind.CHOICE, key), dedupe, logged)
        return Received(None, dedupe, logged)
    dedupe = f"msg:{user_key}:{message_id}"
    if kind == "text":
        return Received(message(MessageKind.TEXT, fields.get("Content", "")), dedupe, kind)
    recognition = fields.get("Recognition", "").strip()
    if kind == "voice" and recognition:
        return Received(message(MessageKind.TEXT, recognition), dedupe, "voice_text")
    return Received(
        message(MessageKind.UNSUPPORTED), dedupe, kind if kind in MESSAGE_TYPES else OTHER
    )


class WechatChannel:
    """The /wechat endpoint: GET for the server check, POST for messages and events."""

    def __init__(
        self,
        *,
        config: WechatConfig,
        dialogue: Conversation,
        user_keys: UserKeyHasher,
        store: WechatStore,
        late_sender: LateSender | None,
        is_traditional: Callable[[str], bool],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._config = config
        self._clock = clock
        self._is_traditional = is_traditional
        self._dialogue = dialogue
        self._user_keys = user_keys
        self._store = store
        self._late_sender = late_sender
        # Answers still running after their reply went out; kept so they are not garbage-collected.
        self._late_tasks: set[asyncio.Task[tuple[str, bool]]] = set()
        # Replies this process gave lately, for WeChat's retries without a database read (a
        # retry reaching another process finds the stored reply once the person's turn is free).
        self._recent_replies = RecentReplies()
        self._people = KeyLocks()

    def _refusal(self, query: Mapping[str, str], method: str) -> Response | None:
        """403 unless the request is signed with our token and its timestamp is recent."""
        timestamp = query.get("timestamp", "")
        if not is_valid_signature(
            query.get("signature", ""), self._config.token, timestamp, query.get("nonce", "")
        ):
            log_event("wechat_bad_signature", logging.WARNING, method=method)
            return PlainTextResponse("forbidden", status_code=403)
        if not is_fresh(timestamp, self._config.timestamp_window, self._clock()):
            # Signed, but not now: a captured request replayed.
            log_event("wechat_stale_timestamp", logging.WARNING, method=method)
            return PlainTextResponse("forbidden", status_code=403)
        return None

    async def verify(self, request: Request) -> Response:
        """WeChat's server check: echo `echostr` when the signature is ours."""
        refusal = self._refusal(request.query_params, "GET")
        if refusal is not None:
            return refusal
        return PlainTextResponse(request.query_params.get("echostr", ""))

    async def receive(self, request: Request) -> Response:
        """One message or event: checked, decrypted, answered once, replied within the budget."""
        started = time.perf_counter()
        query = request.query_params
        refusal = self._refusal(query, "POST")
        if refusal is not None:
            return refusal
        body = await read_capped_body(request, xml.MAX_BODY_BYTES)
        if body is None:
            log_event("wechat_refused", logging.WARNING, reason="too_large")
            return PlainTextResponse("too large", status_code=413)
        try:
            fields, encrypted = self._open(body, query)
        except PermissionError:
            log_event("wechat_bad_signature", logging.WARNING, method="POST", layer="msg")
            return PlainTextResponse("forbidden", status_code=403)
        except (UnsafeXmlError, WechatCryptoError) as error:
            log_event("wechat_refused", logging.WARNING, reason=type(error).__name__)
            return PlainTextResponse("bad request", status_code=400)
        openid = fields.get("FromUserName", "")
        if not openid:
            return PlainTextResponse("bad request", status_code=400)
        user_key = self._user_keys.key_for(CHANNEL, openid)
        received = decode(fields, user_key, openid)
        if received.incoming is None:
            if received.kind == "unsubscribe":
                await self._store.forget_choices(user_key)
            log_event("wechat_event", user=user_key[:12], kind=received.kind)
            return PlainTextResponse(SUCCESS)
        reply, outcome = await self._reply_once(received.dedupe_key, received.incoming, openid)
        log_event(
            "wechat_turn",
            user=user_key[:12],
            kind=received.kind,
            outcome=outcome,
            encrypted=encrypted,
            latency_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        if not reply:
            return PlainTextResponse(SUCCESS)
        return self._respond(reply, openid, fields.get("ToUserName", ""), encrypted=encrypted)

    def _open(self, body: bytes, query: Mapping[str, str]) -> tuple[dict[str, str], bool]:
        """The message's fields, decrypted where it is encrypted; whether it was."""
        fields = parse_fields(body)
        encrypted_text = fields.get("Encrypt")
        if encrypted_text is None:
            if self._config.mode == "safe":
                raise UnsafeXmlError("safe mode accepts encrypted messages only")
            return fields, False
        cipher = self._config.cipher
        if cipher is None:
            raise UnsafeXmlError("encrypted message but plain mode")
        if not is_valid_signature(
            query.get("msg_signature", ""),
            self._config.token,
            query.get("timestamp", ""),
            query.get("nonce", ""),
            encrypted_text,
        ):
            raise PermissionError("msg_signature")
        return parse_fields(cipher.decrypt(encrypted_text).encode()), True

    def _respond(self, text: str, openid: str, account: str, *, encrypted: bool) -> Response:
        now = int(time.time())
        reply = xml.build(
            {
                "ToUserName": openid,
                "FromUserName": account,
                "CreateTime": now,
                "MsgType": "text",
                "Content": text,
            }
        )
        if encrypted and self._config.cipher is not None:
            sealed = self._config.cipher.encrypt(reply)
            nonce = secrets.token_hex(8)
            reply = xml.build(
                {
                    "Encrypt": sealed,
                    "MsgSignature": signature(self._config.token, str(now), nonce, sealed),
                    "TimeStamp": now,
                    "Nonce": nonce,
                }
            )
        return Response(reply, media_type="application/xml")

    async def _reply_once(
        self, dedupe_key: str, incoming: IncomingMessage, openid: str
    ) -> tuple[str | None, str]:
        """The reply text (None: answer later) and what happened (answered, late, retry)."""
        budget = self._config.reply_budget_seconds
        answered = self._recent_replies.get(dedupe_key)
        if answered is not None:  # WeChat retrying a message this process answered
            return answered, "retry"
        started = time.monotonic()
        deadline_passed = asyncio.Event()
        task = asyncio.create_task(self._answer(dedupe_key, incoming, openid, deadline_passed))
        self._late_tasks.add(task)
        task.add_done_callback(self._late_tasks.discard)
        if budget <= 0:  # no reply within the request: every answer is sent afterwards
            deadline_passed.set()
            return None, "late"
        try:
            text, first = await asyncio.wait_for(asyncio.shield(task), timeout=budget)
        except TimeoutError:
            if task.done() and not task.cancelled() and task.exception() is None:
                text, first = task.result()
            else:
                deadline_passed.set()  # no await since the timeout: the task sees it when it ends
                return None, "late"
        if not first:
            left = max(0.0, budget - (time.monotonic() - started))
            return await self._first_delivery_reply(dedupe_key, left), "retry"
        return text, "answered"

    async def _first_delivery_reply(self, dedupe_key: str, budget: float) -> str | None:
        """A retry waits (within the budget) for the first delivery's reply instead of re-running."""
        deadline = time.monotonic() + budget
        while True:
            reply = await self._store.stored_reply(dedupe_key)
            if reply is not None or time.monotonic() >= deadline:
                return reply
            await asyncio.sleep(RETRY_POLL_SECONDS)

    async def _answer(
        self,
        dedupe_key: str,
        incoming: IncomingMessage,
        openid: str,
        deadline_passed: asyncio.Event,
    ) -> tuple[str, bool]:
        """The message's receipt, its turn and the reply kept for retries: one transaction, under
        the person's lock, so a crash before its commit leaves the message unclaimed for WeChat's
        retry, and a retry after it finds the reply. Returns the text and whether this delivery
        was the first (a retry answers from the stored reply)."""
        user_key = incoming.user_key
        async with self._people.holding(user_key):
            try:
                async with self._dialogue.turn(user_key):
                    claim = await self._store.claim_receipt(
                        dedupe_key, user_key, keep_for=self._config.receipt_retention
                    )
                    if not claim.is_first:
                        return "", False
                    page = await self._turn(incoming, claim.choices, claim.rest)
                    await self._store.store_reply(
                        dedupe_key,
                        page.text,
                        user_key=user_key,
                        choices=page.choices,
                        rest=page.rest,
                    )
                text = page.text
                self._recent_replies.put(dedupe_key, text)
            except Exception as error:  # one broken message must not break the endpoint
                log_event("wechat_turn_failed", logging.ERROR, error=type(error).__name__)
                # Nothing of it was kept; it is claimed now, answered with nothing, so WeChat's
                # retries get "success" instead of running it again.
                claim = await self._store.claim_receipt(
                    dedupe_key, user_key, keep_for=self._config.receipt_retention
                )
                if not claim.is_first:
                    return "", False
                await self._store.store_reply(
                    dedupe_key, "", user_key=user_key, choices=None, rest=None
                )
                text = ""
        if deadline_passed.is_set() and text:
            await self._send_late(openid, text)
        return text, True

    async def _send_late(self, openid: str, text: str) -> None:
        if self._late_sender is None:
            log_event("wechat_late_reply_unsent", logging.WARNING, reason="no_appsecret")
            return
        try:
            await self._late_sender(openid, text)
        except Exception as error:  # logged by type; WeChat has already been told "success"
            log_event("wechat_late_reply_failed", logging.ERROR, error=type(error).__name__)

    async def _turn(
        self, incoming: IncomingMessage, choices: tuple[Choice, ...], rest: str | None
    ) -> WechatPage:
        """Through the dialogue (a number picks a shown choice), as one page of text."""
        if incoming.kind == MessageKind.TEXT:
            picked = to_choice_number(incoming.text, choices)
            if picked is not None:
                incoming = IncomingMessage.pressed(
                    incoming.user_key, CHANNEL, picked.payload, address=incoming.address
                )
        if incoming.kind == MessageKind.CHOICE and incoming.text == MORE_PAYLOAD and rest:
            return next_page(rest, choices, traditional=self._is_traditional(rest))
        turn = await self._dialogue.handle(incoming)
        body = "".join(reply.text for reply in turn.replies)
        return compose(turn.replies, traditional=self._is_traditional(body))

    async def wait_for_late_answers(self) -> None:
        """Let answers still running finish (on shutdown, and in tests)."""
        while self._late_tasks:
            await asyncio.gather(*self._late_tasks, return_exceptions=True)
