"""The mobile web chat: the /chat page and its JSON API over the same dialogue core.

Input half: `{"session", "text"}` or `{"session", "choice"}` becomes the neutral message (user key
= HMAC of the session token the page keeps in localStorage). Output half: replies as JSON with
their choices (tappable chips) and sources. With `"traditional": true` (the page's 繁体 toggle)
replies come back in Traditional characters, as they do when someone types Traditional.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from bot.channels.base import Conversation
from bot.channels.key_locks import KeyLocks
from bot.channels.request_body import read_capped_body
from bot.channels.web.client_address import ClientAddress
from bot.events import log_event
from bot.limits.shared_redis import SharedRedis
from bot.limits.window import SlidingWindowLimiter, WindowLimiter
from bot.settings import WebChatSettings
from bot.user_keys import UserKeyHasher
from handlers import texts
from handlers.messages import IncomingMessage, Reply
from handlers.payloads import MAX_PAYLOAD_BYTES
from handlers.referral_prompts import MAX_DESCRIPTION_CHARS

CHANNEL = "web"
# The per-IP limit counts a keyed hash of the address, never the address itself.
ADDRESS_KEY_CHANNEL = "web-ip"
# What the page may send in one message is what the referral's longest answer may be, so the
# description step's promise (最多 800 字) is the API's limit too.
MAX_TEXT_CHARS = MAX_DESCRIPTION_CHARS
# Room for that text even when every character arrives as a JSON escape (\ud83d\ude00 per emoji).
MAX_BODY_BYTES = 16 * 1024
MAX_CHOICE_CHARS = MAX_PAYLOAD_BYTES
SESSION_PATTERN = r"^[A-Za-z0-9_-]{16,128}$"
PAGE_SESSION_MARK = "{{SESSION}}"
JSON_MEDIA_TYPE = "application/json"
# Everything comes from the app itself: no CDN, no inline script, no framing by other sites.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
}
# Replies can echo what a worker typed (a phone number): no cache keeps them, no sniffing.
API_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


class ChatRequest(BaseModel):
    """What the page sends: typed text or a chip's choice, never both."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    session: str = Field(pattern=SESSION_PATTERN)
    text: str | None = Field(default=None, max_length=MAX_TEXT_CHARS)
    choice: str | None = Field(default=None, max_length=MAX_CHOICE_CHARS)
    traditional: bool = False

    @model_validator(mode="after")
    def _text_or_choice(self) -> ChatRequest:
        if (self.text is None) == (self.choice is None):
            raise ValueError("send either text or choice")
        return self


def is_json(request: Request) -> bool:
    media_type = request.headers.get("content-type", "").partition(";")[0]
    return media_type.strip().lower() == JSON_MEDIA_TYPE


def refusal(problems: list[ErrorDetails]) -> str:
    """What the page shows for a request the model refused: the first problem that has its own
    message (the session, the text's length), else the general one."""
    for problem in problems:
        if problem["loc"][:1] == ("session",):
            return texts.WEB_BAD_SESSION
    for problem in problems:
        if problem["loc"][:1] == ("text",) and problem["type"] == "string_too_long":
            return texts.WEB_TEXT_TOO_LONG.format(max_chars=MAX_TEXT_CHARS)
    return texts.WEB_BAD_REQUEST


def api_response(content: dict[str, Any], *, status_code: int = 200) -> JSONResponse:
    return JSONResponse(content, status_code=status_code, headers=API_HEADERS)


def reply_as_json(reply: Reply) -> dict[str, Any]:
    return {
        "text": reply.text,
        "choices": [{"label": c.label, "choice": c.payload} for c in reply.choices],
        "sources": [
            {"doc": s.document, "clause": s.clause, "title": s.title} for s in reply.sources
        ],
    }


@dataclass(frozen=True, slots=True)
class WebChatLimits:
    """Per session and per address: in Redis when there is one (every process counts together),
    else in this process. Both count hashed keys (the user key, a keyed hash of the address)."""

    per_session: WindowLimiter
    per_ip: WindowLimiter
    client_address: ClientAddress

    @classmethod
    def from_settings(
        cls, settings: WebChatSettings, redis: SharedRedis | None = None
    ) -> WebChatLimits:
        session_limit = settings.requests_per_minute_per_session
        ip_limit = settings.requests_per_minute_per_ip
        per_session: WindowLimiter
        per_ip: WindowLimiter
        if redis is None:
            per_session = SlidingWindowLimiter(session_limit)
            per_ip = SlidingWindowLimiter(ip_limit)
        else:
            # `limits` and redis-py load only when Redis is configured.
            from bot.limits.redis_window import RedisWindowLimiter

            per_session = RedisWindowLimiter(redis, session_limit, name="web-session")
            per_ip = RedisWindowLimiter(redis, ip_limit, name="web-ip")
        return cls(per_session, per_ip, ClientAddress(settings.trusted_proxies))


class WebChat:
    """The /chat page (with a fresh session token) and /api/chat."""

    def __init__(
        self,
        *,
        dialogue: Conversation,
        user_keys: UserKeyHasher,
        to_traditional: Callable[[str], str],
        limits: WebChatLimits,
    ) -> None:
        self._dialogue = dialogue
        self._user_keys = user_keys
        self._to_traditional = to_traditional
        self._limits = limits
        self._people = KeyLocks()
        self._page = (
            resources.files("bot.channels.web").joinpath("static/chat.html").read_text("utf-8")
        )

    async def page(self, _request: Request) -> Response:
        """The chat page; the token is used only when the browser has none saved yet."""
        html = self._page.replace(PAGE_SESSION_MARK, secrets.token_urlsafe(24))
        return HTMLResponse(html, headers=PAGE_HEADERS)

    async def api(self, request: Request) -> Response:
        started = time.perf_counter()
        if not is_json(request):
            log_event("web_chat_refused", reason="not_json")
            return api_response({"error": texts.WEB_NOT_JSON}, status_code=415)
        body = await read_capped_body(request, MAX_BODY_BYTES)
        if body is None:
            log_event("web_chat_refused", reason="too_large")
            return api_response({"error": texts.WEB_TOO_LARGE}, status_code=413)
        try:
            chat = ChatRequest.model_validate_json(body)
        except ValidationError as error:
            log_event("web_chat_refused", reason=error.errors()[0]["type"])
            return api_response({"error": refusal(error.errors())}, status_code=400)
        address = self._limits.client_address.of(request)
        user_key = self._user_keys.key_for(CHANNEL, chat.session)
        address_key = self._user_keys.key_for(ADDRESS_KEY_CHANNEL, address)
        if not await self._limits.per_ip.allows(
            address_key
        ) or not await self._limits.per_session.allows(user_key):
            log_event("web_chat_rate_limited")
            return api_response({"error": texts.WEB_TOO_FAST}, status_code=429)
        language = "zh-hant" if chat.traditional else None
        if chat.choice is not None:
            incoming = IncomingMessage.pressed(user_key, CHANNEL, chat.choice, language=language)
        else:
            incoming = IncomingMessage.typed(user_key, CHANNEL, chat.text or "", language=language)
        async with self._people.holding(user_key):
            turn = await self._dialogue.handle(incoming)
        replies = turn.replies
        if chat.traditional:
            replies = tuple(reply.converted(self._to_traditional) for reply in replies)
        question = turn.question
        log_event(
            "web_chat_turn",
            user=user_key[:12],
            kind=incoming.kind.value,
            clause=question.clause if question else None,
            fallback=question.fallback if question else None,
            latency_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return api_response({"replies": [reply_as_json(reply) for reply in replies]})
