"""What /api/chat refuses and how it says so, its headers, and whose address the per-IP limit
counts: through the real app (httpx in-process), on temp SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.channels.web.chat import MAX_TEXT_CHARS
from handlers import texts
from handlers.referral_prompts import MAX_DESCRIPTION_CHARS
from knowledge.match import Matcher
from tests.bot.server_harness import Server, engine_in, running_server, settings_for

SESSION = "s" * 20 + "_requests"


@pytest.fixture
async def server(tmp_path: Path, plan_matcher: Matcher) -> AsyncIterator[Server]:
    async with running_server(settings_for(tmp_path), engine_in(tmp_path), plan_matcher) as running:
        yield running


async def post(server: Server, body: dict[str, Any]) -> httpx.Response:
    return await server.http.post("/api/chat", json=body)


async def test_each_refusal_says_what_is_wrong(server: Server) -> None:
    short_session = await post(server, {"session": "short", "text": "你好"})
    too_long = await post(server, {"session": SESSION, "text": "长" * (MAX_TEXT_CHARS + 1)})
    malformed = await server.http.post(
        "/api/chat", content=b'{"session": ', headers={"Content-Type": "application/json"}
    )
    errors = [response.json()["error"] for response in (short_session, too_long, malformed)]
    assert [r.status_code for r in (short_session, too_long, malformed)] == [400, 400, 400]
    assert errors == [
        texts.WEB_BAD_SESSION,
        texts.WEB_TEXT_TOO_LONG.format(max_chars=MAX_TEXT_CHARS),
        texts.WEB_BAD_REQUEST,
    ]
    assert len(set(errors)) == 3


async def test_a_description_as_long_as_the_prompt_promises_is_taken(server: Server) -> None:
    assert MAX_TEXT_CHARS == MAX_DESCRIPTION_CHARS
    for step in ({"text": "法律援助"}, {"text": "同意"}, {"text": "欠薪"}, {"text": "武清"},
                 {"text": "13812345678"}, {"text": "跳过"}):  # fmt: skip
        prompt = (await post(server, {"session": SESSION, **step})).json()["replies"][-1]["text"]
    assert f"最多{MAX_DESCRIPTION_CHARS}字" in prompt
    # Emoji arrive as JSON escapes of 12 bytes each: the body still fits.
    description = "老板拖欠工资" + "😀" * (MAX_DESCRIPTION_CHARS - 6)
    response = await server.http.post(
        "/api/chat",
        content=httpx.Request("POST", "/", json={"session": SESSION, "text": description}).content,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert "请核对" in response.json()["replies"][-1]["text"]


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "application/jsonx"]
)
async def test_a_body_that_is_not_declared_json_is_refused(
    server: Server, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = await server.http.post(
        "/api/chat", content=b'{"session": "' + SESSION.encode() + b'", "text": "hi"}',
        headers=headers,
    )  # fmt: skip
    assert response.status_code == 415 and response.json()["error"] == texts.WEB_NOT_JSON


async def test_json_with_a_charset_is_json(server: Server) -> None:
    response = await server.http.post(
        "/api/chat",
        content=b'{"session": "' + SESSION.encode() + b'", "text": "hi"}',
        headers={"Content-Type": "Application/JSON; charset=utf-8"},
    )
    assert response.status_code == 200


async def test_answers_and_refusals_are_not_cached_or_sniffed(server: Server) -> None:
    answered = await post(server, {"session": SESSION, "text": "孩子能上公办学校吗"})
    refused = await post(server, {"session": "short", "text": "你好"})
    for response in (answered, refused):
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-content-type-options"] == "nosniff"


async def statuses(server: Server, forwarded: list[str]) -> list[int]:
    return [
        (
            await server.http.post(
                "/api/chat",
                json={"session": f"session-number-{n:08d}", "text": "你好"},
                headers={"X-Forwarded-For": hop},
            )
        ).status_code
        for n, hop in enumerate(forwarded)
    ]


async def test_forwarded_addresses_count_only_from_a_trusted_proxy(
    tmp_path: Path, plan_matcher: Matcher
) -> None:
    limits = {"requests_per_minute_per_ip": 2, "trusted_proxies": ["127.0.0.0/8"]}
    settings = settings_for(tmp_path, web_chat=limits)
    async with running_server(settings, engine_in(tmp_path), plan_matcher) as running:
        # Each client behind the proxy has its own limit; what a client put left of the
        # address our proxy appended changes nothing.
        first = await statuses(running, ["203.0.113.5", "198.51.100.1, 203.0.113.5", "203.0.113.5"])
        other = await statuses(running, ["203.0.113.6"])
    assert first == [200, 200, 429] and other == [200]


async def test_without_trusted_proxies_a_forged_header_changes_nothing(
    tmp_path: Path, plan_matcher: Matcher
) -> None:
    settings = settings_for(tmp_path, web_chat={"requests_per_minute_per_ip": 2})
    async with running_server(settings, engine_in(tmp_path), plan_matcher) as running:
        assert await statuses(running, ["203.0.113.5", "203.0.113.6", "203.0.113.7"]) == [
            200, 200, 429
        ]  # fmt: skip


async def test_a_content_length_that_is_no_number_is_no_crash(server: Server) -> None:
    body = b'{"session": "' + SESSION.encode() + b'", "text": "hi"}'
    response = await server.http.post(
        "/api/chat",
        content=body,
        headers={"Content-Type": "application/json", "Content-Length": "²".encode("latin-1")},
    )
    assert response.status_code < 500
