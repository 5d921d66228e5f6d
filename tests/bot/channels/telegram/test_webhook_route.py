"""Telegram's webhook as a route of the shared server: the real PTB application (pointed at the fake
Bot API server) shares the ASGI app's event loop and answers updates posted to the route."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bot.channels.telegram.webhook import SECRET_HEADER
from bot.server import build_server
from knowledge.match import Matcher
from tests.bot.server_harness import engine_in, production_app, settings_for
from tests.fake_telegram import DEFAULT_TOKEN, FakeTelegramServer

SECRET = "webhook-secret_123"
WEBHOOK = "https://bot.example.org/tg/hook"
WORKER = 4242


@dataclass
class Webhook:
    telegram: FakeTelegramServer
    http: httpx.AsyncClient


@pytest.fixture
async def webhook(tmp_path: Path, plan_matcher: Matcher) -> AsyncIterator[Webhook]:
    engine = engine_in(tmp_path)
    async with FakeTelegramServer() as telegram:
        settings = settings_for(
            tmp_path,
            telegram={
                "token": DEFAULT_TOKEN,
                "base_url": telegram.base_url,
                "base_file_url": telegram.base_file_url,
                "webhook_secret": SECRET,
                "connect_timeout": 5,
                "read_timeout": 5,
            },
        )
        wired = production_app(settings, engine, plan_matcher)
        app = build_server(wired, wired.channels(webhook_url=WEBHOOK))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                yield Webhook(telegram, http)


async def test_the_webhook_is_registered_with_its_secret(webhook: Webhook) -> None:
    assert webhook.telegram.webhook_url == WEBHOOK
    (call,) = webhook.telegram.calls("setWebhook")
    assert call.params.get("secret_token") == SECRET


async def test_an_update_posted_with_the_secret_is_answered(webhook: Webhook) -> None:
    update = webhook.telegram.send_text(WORKER, "孩子能上公办学校吗")
    response = await webhook.http.post("/tg/hook", json=update, headers={SECRET_HEADER: SECRET})
    assert response.status_code == 200
    (answer,) = await webhook.telegram.wait_for_messages(WORKER, 1)
    assert "依据：《实施方案》二（四）4" in (answer.text or "")


async def test_an_update_without_the_secret_is_refused(webhook: Webhook) -> None:
    update = webhook.telegram.send_text(WORKER, "你好")
    response = await webhook.http.post("/tg/hook", json=update)
    wrong = await webhook.http.post("/tg/hook", json=update, headers={SECRET_HEADER: "nope"})
    assert response.status_code == 403 and wrong.status_code == 403


@pytest.mark.parametrize(
    "sent",
    ["webhook-secret_123é".encode(), "密钥".encode(), b"\xff\xfe", SECRET.encode() + b"\x80"],
)
async def test_a_secret_header_that_is_not_ascii_is_refused(webhook: Webhook, sent: bytes) -> None:
    update = webhook.telegram.send_text(WORKER, "你好")
    response = await webhook.http.post("/tg/hook", json=update, headers={SECRET_HEADER: sent})
    assert response.status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b"null",
        b'{"update_id": "1"}',
        b'{"update_id": 1, "message": "x"}',
        b'{"update_id": 1, "message": {"chat": 5}}',
        b'{"update_id": 1, "callback_query": {"id": 1}}',
        b"{",
    ],
)
async def test_a_body_that_is_not_an_update_is_refused(webhook: Webhook, body: bytes) -> None:
    response = await webhook.http.post(
        "/tg/hook",
        content=body,
        headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
