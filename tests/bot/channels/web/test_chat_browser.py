"""The web chat in a real headless browser: Debian's chromium driven by Playwright, against the
real app served by uvicorn on a free port, on a 360-px-wide phone screen."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.server import build_server
from bot.storage.models import UserRecord
from knowledge.match import Matcher
from tests.bot.server_harness import engine_in, production_app, settings_for
from tests.conftest import free_port

PHONE = {"width": 360, "height": 740}


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return engine_in(tmp_path)


@pytest.fixture
async def base_url(tmp_path: Path, engine: Engine, plan_matcher: Matcher) -> AsyncIterator[str]:
    wired = production_app(settings_for(tmp_path), engine, plan_matcher)
    app = build_server(wired, wired.channels())
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "uvicorn did not start"
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


async def test_ask_tap_a_chip_and_switch_to_traditional(chromium: Path, base_url: str) -> None:
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(chromium), headless=True)
        try:
            page = await browser.new_page(viewport=PHONE, locale="zh-CN")
            external: list[str] = []
            page.on(
                "request",
                lambda request: (
                    None if request.url.startswith(base_url) else external.append(request.url)
                ),
            )
            await page.goto(f"{base_url}/chat")
            # The welcome arrives with the topics as chips.
            await expect(page.locator(".reply").first).to_contain_text("政策小助手")
            await page.fill("#question", "孩子能上公办学校吗")
            await page.click("#send")
            answer = page.locator(".reply").nth(1)
            await expect(answer).to_contain_text("依据：《实施方案》二（四）4")
            # Tap 查看原文: the clause's own words come back.
            await answer.locator(".chip", has_text="查看原文").click()
            await expect(page.locator(".reply").nth(2)).to_contain_text(
                "统筹安排符合条件的农民工随迁子女在公办学校就读"
            )
            # 繁体: the page's words and the next answer are Traditional.
            await page.click("#toggle-traditional")
            await expect(page.locator("#send")).to_have_text("發送")
            await page.fill("#question", "孩子能上公办学校吗")
            await page.press("#question", "Enter")
            await expect(page.locator(".reply").nth(3)).to_contain_text("依據：《實施方案》")
            # Nothing is wider than the phone's screen.
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"]
            # 长者模式 makes the text larger.
            before = await page.evaluate("getComputedStyle(document.body).fontSize")
            await page.click("#toggle-large")
            after = await page.evaluate("getComputedStyle(document.body).fontSize")
            assert float(after.removesuffix("px")) > float(before.removesuffix("px"))
            assert external == []
        finally:
            await browser.close()


async def test_a_poster_link_records_its_campaign(
    chromium: Path, base_url: str, engine: Engine
) -> None:
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(chromium), headless=True)
        try:
            page = await browser.new_page(viewport=PHONE, locale="zh-CN")
            await page.goto(f"{base_url}/chat?start=chunfeng2027_xiqing")
            await expect(page.locator(".reply").first).to_contain_text("政策小助手")
        finally:
            await browser.close()
    with Session(engine) as session:
        (person,) = session.exec(select(UserRecord)).all()
    assert person.channel == "web" and person.source == "chunfeng2027_xiqing"
