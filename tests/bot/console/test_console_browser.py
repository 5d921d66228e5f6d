"""The console in a real headless browser (Debian's chromium driven by Playwright) against the real
app under uvicorn: a caseworker claims, reveals and closes a case; a curator attaches a question
the bot could not answer and the bot answers it next time; doors stay shut to the wrong role and
to a form without its CSRF token. On a phone-sized screen, with nothing loaded from elsewhere."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.app import App, compose
from bot.console.roles import Role
from bot.server import build_server
from bot.settings import Settings
from bot.storage.console_models import AuditEntry
from bot.storage.models import OutboxMessage
from knowledge.match import Matcher
from tests.bot.console.conftest import CHEAP_PASSWORDS, PASSWORD, add_staff, submit_case
from tests.bot.server_harness import USER_KEY_SECRET
from tests.conftest import free_port

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
PLAN_2_2_2 = "tianjin-2023-county-migrant-plan:2.2.2"


@dataclass
class Running:
    url: str
    app: App
    engine: Engine


@pytest.fixture
async def running(
    settings: Settings, engine: Engine, plan_matcher: Matcher
) -> AsyncIterator[Running]:
    app = compose(settings, engine=engine, matcher=plan_matcher, secret=USER_KEY_SECRET)
    server_app = build_server(app, [*app.channels(), app.console(CHEAP_PASSWORDS)])
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(server_app, host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "uvicorn did not start"
        await asyncio.sleep(0.02)
    add_staff(engine, "li", Role.CASEWORKER)
    add_staff(engine, "zhao", Role.CURATOR)
    yield Running(f"http://127.0.0.1:{port}", app, engine)
    server.should_exit = True
    await task


@pytest.fixture
async def browser(chromium: Path) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(chromium), headless=True)
        try:
            yield launched
        finally:
            await launched.close()


async def open_page(
    browser: Any, running: Running, viewport: dict[str, int]
) -> tuple[Any, list[str]]:
    page = await browser.new_page(viewport=viewport, locale="zh-CN")
    external: list[str] = []
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith(running.url) else external.append(request.url)
        ),
    )
    return page, external


async def log_in(page: Any, running: Running, name: str, target: str) -> None:
    await page.goto(f"{running.url}{target}")
    assert "/console/login" in page.url  # anonymous: sent to the login page
    await page.fill("input[name=username]", name)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button:has-text('登录')")
    await page.wait_for_url(f"{running.url}{target}")


def worker_notices(engine: Engine) -> list[str]:
    with Session(engine) as session:
        rows = session.exec(
            select(OutboxMessage).where(col(OutboxMessage.kind) == "worker_notice")
        ).all()
    return sorted(row.event or "" for row in rows)


async def test_a_caseworker_claims_reveals_and_closes_a_case(
    browser: Any, running: Running
) -> None:
    from playwright.async_api import expect

    case = await submit_case(running.app)
    page, external = await open_page(browser, running, PHONE)
    await log_in(page, running, "li", "/console/cases")
    row = page.locator("#case-list tr", has_text=case.number)
    await expect(row).to_contain_text("待接单")
    await expect(row).to_contain_text("138****5678")
    # A new referral arrives while the list is open: it appears without a reload.
    newer = await submit_case(running.app, phone="13900001111", district="武清区")
    await expect(page.locator("#case-list tr", has_text=newer.number)).to_be_visible(timeout=15_000)
    await expect(page.locator("#new-cases")).to_contain_text("新到 1 件")
    await row.locator("a").click()
    await expect(page.locator("#phone")).to_have_text("138****5678")
    await page.click("button:has-text('显示号码')")
    await expect(page.locator("#phone")).to_have_text("13812345678")
    await page.click("button:has-text('接单')")
    await expect(page.locator(".notice")).to_contain_text("已接单")
    await expect(page.locator("#case-status")).to_have_text("已接单")
    await expect(page.locator("#phone")).to_have_text("138****5678")  # masked again
    await page.fill("textarea[name=outcome]", "已调解，老板答应月底结清")
    await page.click("button:has-text('结案')")
    await expect(page.locator("#case-status")).to_have_text("已结案")
    await expect(page.locator("dl.case")).to_contain_text("已调解，老板答应月底结清")
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert external == []
    # The worker hears once of each change, through their channel's outbox.
    assert worker_notices(running.engine) == ["claimed", "closed"]
    with Session(running.engine) as session:
        actions = [
            e.action
            for e in session.exec(
                select(AuditEntry).where(col(AuditEntry.case_number) == case.number)
            )
        ]
    assert actions.count("reveal_phone") == 1 and {"view_case", "claim", "close"} <= set(actions)


async def test_a_curator_attaches_a_question_and_the_bot_answers_it(
    browser: Any, running: Running
) -> None:
    from playwright.async_api import expect

    chat, _ = await open_page(browser, running, PHONE)
    await chat.goto(f"{running.url}/chat")
    await expect(chat.locator(".reply").first).to_contain_text("政策小助手")
    await chat.fill("#question", "学开挖掘机")
    await chat.click("#send")
    await expect(chat.locator(".reply").nth(1)).to_contain_text("没有写到")

    page, external = await open_page(browser, running, DESKTOP)
    await log_in(page, running, "zhao", "/console/review")
    group = page.locator("article.group", has_text="学开挖掘机")
    await expect(group).to_contain_text("未答上 1")
    await group.locator("input[name=clause]").fill(PLAN_2_2_2)
    await group.locator("button:has-text('加为条款说法')").click()
    await expect(page.locator(".notice")).to_contain_text("已加为条款的说法")
    await expect(page.locator(".tested")).to_contain_text("依据：《实施方案》二（二）2")
    await expect(page.locator("article.group", has_text="学开挖掘机")).to_have_count(0)

    await chat.fill("#question", "学开挖掘机")
    await chat.click("#send")
    await expect(chat.locator(".reply").nth(2)).to_contain_text("依据：《实施方案》二（二）2")
    # The hit-testing box says the same, with the clause and the words it matched.
    await page.goto(f"{running.url}/console/hit-test")
    await page.fill("input[name=q]", "学开挖掘机")
    await page.click("button:has-text('测试')")
    await expect(page.locator("table.ranked")).to_contain_text("《实施方案》二（二）2")
    await expect(page.locator("table.ranked")).to_contain_text("挖掘机")
    assert external == []


async def test_a_caseworker_cannot_open_the_review_queue_or_the_audit_log(
    browser: Any, running: Running
) -> None:
    from playwright.async_api import expect

    page, _ = await open_page(browser, running, PHONE)
    await log_in(page, running, "li", "/console/cases")
    for path in ("/console/review", "/console/audit", "/console/hit-test", "/console/figures"):
        response = await page.goto(f"{running.url}{path}")
        assert response is not None and response.status == 403
        await expect(page.locator("main")).to_contain_text("没有这个页面的权限")
    await expect(page.locator("header nav")).not_to_contain_text("待审问题")


async def test_a_form_without_its_csrf_token_is_refused(browser: Any, running: Running) -> None:
    from playwright.async_api import expect

    case = await submit_case(running.app)
    page, _ = await open_page(browser, running, DESKTOP)
    await log_in(page, running, "li", f"/console/cases/{case.number}")
    await page.evaluate(
        "document.querySelector('form[action$=\"/claim\"] input[name=csrf_token]').remove()"
    )
    await page.click("button:has-text('接单')")
    await expect(page.locator("main")).to_contain_text("页面已过期")
    await page.goto(f"{running.url}/console/cases/{case.number}")
    await expect(page.locator("#case-status")).to_have_text("待接单")
    assert worker_notices(running.engine) == []
