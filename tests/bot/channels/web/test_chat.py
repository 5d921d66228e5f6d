"""The web chat's JSON API and page through the real app (httpx in-process), on temp SQLite."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from knowledge.match import Matcher
from tests.bot.server_harness import Server, engine_in, running_server, settings_for

SESSION = "s" * 20 + "_web-session"


@pytest.fixture
async def server(tmp_path: Path, plan_matcher: Matcher) -> AsyncIterator[Server]:
    settings = settings_for(tmp_path)
    async with running_server(settings, engine_in(tmp_path), plan_matcher) as running:
        yield running


async def chat(server: Server, **body: Any) -> dict[str, Any]:
    response = await server.http.post("/api/chat", json={"session": SESSION, **body})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def choice_for(reply: dict[str, Any], label: str) -> str:
    return next(c["choice"] for c in reply["choices"] if c["label"] == label)


async def test_a_question_gets_a_cited_answer_with_sources_and_choices(server: Server) -> None:
    (reply,) = (await chat(server, text="孩子能上公办学校吗"))["replies"]
    assert "依据：《实施方案》二（四）4" in reply["text"]
    assert reply["sources"][0]["clause"] == "2.4.4" and reply["sources"][0]["doc"]
    assert {"查看原文", "👍 有用", "👎 没用"} <= {c["label"] for c in reply["choices"]}


async def test_a_law_answer_names_its_document_and_article(
    tmp_path: Path, library_matcher: Matcher
) -> None:
    async with running_server(settings_for(tmp_path), engine_in(tmp_path), library_matcher) as s:
        (reply,) = (await chat(s, text="加班费怎么算"))["replies"]
    assert "依据：《劳动法》第四十四条" in reply["text"]
    assert reply["sources"][0] == {
        "doc": "labor-law-2018",
        "clause": "art44",
        "title": reply["sources"][0]["title"],
    }


async def test_a_choice_shows_the_full_text(server: Server) -> None:
    (answer,) = (await chat(server, text="孩子能上公办学校吗"))["replies"]
    (full,) = (await chat(server, choice=choice_for(answer, "查看原文")))["replies"]
    assert "统筹安排符合条件的农民工随迁子女在公办学校就读" in full["text"]


async def test_traditional_rendering_returns_traditional_text(server: Server) -> None:
    (reply,) = (await chat(server, text="孩子能上公办学校吗", traditional=True))["replies"]
    assert "隨遷子女" in reply["text"] and "依據" in reply["text"]
    assert "查看原文" in {c["label"] for c in reply["choices"]}


async def test_traditional_typing_is_answered_in_traditional(server: Server) -> None:
    (reply,) = (await chat(server, text="孩子能上公辦學校嗎"))["replies"]
    assert "隨遷子女" in reply["text"]


@pytest.mark.parametrize(
    "body",
    [
        {"session": "short", "text": "你好"},
        {"session": SESSION},
        {"session": SESSION, "text": "你好", "choice": "menu"},
        {"session": SESSION, "text": "长" * 801},
        {"session": SESSION, "text": "你好", "extra": 1},
    ],
    ids=["bad-session", "nothing", "both", "too-long", "unknown-field"],
)
async def test_malformed_requests_are_refused(server: Server, body: dict[str, Any]) -> None:
    response = await server.http.post("/api/chat", json=body)
    assert response.status_code == 400


async def test_requests_past_the_session_limit_are_refused(
    tmp_path: Path, plan_matcher: Matcher
) -> None:
    settings = settings_for(tmp_path, web_chat={"requests_per_minute_per_session": 2})
    async with running_server(settings, engine_in(tmp_path), plan_matcher) as running:
        statuses = [
            (
                await running.http.post("/api/chat", json={"session": SESSION, "text": "你好"})
            ).status_code
            for _ in range(3)
        ]
        other = await running.http.post(
            "/api/chat", json={"session": "another-session-0123456789", "text": "你好"}
        )
    assert statuses == [200, 200, 429] and other.status_code == 200


async def test_requests_past_the_address_limit_are_refused(
    tmp_path: Path, plan_matcher: Matcher
) -> None:
    settings = settings_for(tmp_path, web_chat={"requests_per_minute_per_ip": 2})
    async with running_server(settings, engine_in(tmp_path), plan_matcher) as running:
        statuses = [
            (
                await running.http.post(
                    "/api/chat", json={"session": f"session-number-{n:08d}", "text": "你好"}
                )
            ).status_code
            for n in range(3)
        ]
    assert statuses == [200, 200, 429]


async def test_the_page_is_chinese_self_contained_and_carries_a_session(server: Server) -> None:
    response = await server.http.get("/chat")
    page = response.text
    assert response.status_code == 200 and 'lang="zh-CN"' in page and "width=device-width" in page
    assert not re.search(r'(src|href)="(https?:)?//', page), "no external resources"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    token = re.search(r'data-session="([^"]+)"', page)
    assert token is not None and re.fullmatch(r"[A-Za-z0-9_-]{16,128}", token[1])
    second = (await server.http.get("/chat")).text
    assert token[1] not in second  # every page gets its own random token


@pytest.mark.parametrize("asset", ["chat.js", "chat.css"])
async def test_static_files_are_served_by_the_app(server: Server, asset: str) -> None:
    response = await server.http.get(f"/static/{asset}")
    assert response.status_code == 200 and "http" not in response.text.replace("/api/chat", "")


async def test_healthz(server: Server) -> None:
    response = await server.http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "ready": True,
        "database": "ok",
        "redis": "not configured",
        "limiter": "process",
    }


async def test_without_a_token_there_is_no_wechat_route(server: Server) -> None:
    response = await server.http.get("/wechat")
    assert response.status_code == 404


async def test_legal_aid_referral_by_chips_and_typing(server: Server) -> None:
    async def step(**body: Any) -> dict[str, Any]:
        replies: list[dict[str, Any]] = (await chat(server, **body))["replies"]
        return replies[-1]

    consent = await step(text="找律师")
    category = await step(choice=choice_for(consent, "同意"))
    district = await step(choice=choice_for(category, "工伤"))
    phone = await step(text="滨海新区")
    employer = await step(text="13812345678")
    description = await step(choice=choice_for(employer, "跳过"))
    summary = await step(text="在工地摔伤了腿，老板不给报工伤")
    assert "滨海新区" in summary["text"] and "工伤" in summary["text"]
    done = await step(choice=choice_for(summary, "确认提交"))
    assert re.search(r"LA-\d{8}-\d{4}", done["text"]) and phone and district and description
