"""The real server (`bot.app.compose` + `bot.server.build_server`, channels and console) on a temp
SQLite database with the plan imported, reached through httpx in-process; staff accounts with a
cheap argon2id (the hash's own parameters are checked, so the code path is the production one)."""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.applications import Starlette

from bot.app import App, compose
from bot.console.passwords import Passwords
from bot.console.roles import Role
from bot.knowledge_base import import_source
from bot.server import build_server
from bot.settings import Settings
from bot.storage.engine import run_transaction
from bot.storage.repositories import staff as staff_rows
from handlers.cases import CONSENT_VERSION, CaseDraft, CaseView
from knowledge.lexicon import bundled_data_path
from knowledge.match import Matcher
from tests.bot.server_harness import USER_KEY_SECRET, engine_in, settings_for
from tests.conftest import PLAN

CHEAP_PASSWORDS = Passwords(PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
PASSWORD = "correct horse battery"
CSRF_PATTERN = re.compile(r'name="csrf_token" value="([^"]+)"')
ROLES = tuple(Role)


def import_plan(engine: Engine) -> None:
    """The plan in the database, so a rebuilt matcher has what `plan_matcher` has."""
    with Session(engine) as session:
        import_source(bundled_data_path(f"{PLAN}.txt"), session=session)


def add_staff(engine: Engine, name: str, role: Role, password: str = PASSWORD) -> None:
    hashed = CHEAP_PASSWORDS.hash(password)
    run_transaction(engine, lambda s: staff_rows.add_account(name, role.value, hashed, session=s))


def csrf_of(html: str) -> str:
    found = CSRF_PATTERN.search(html)
    assert found is not None, "no CSRF token on the page"
    return found.group(1)


@dataclass
class ConsoleServer:
    app: App
    server: Starlette
    http: httpx.AsyncClient
    engine: Engine

    def client(self, base_url: str = "http://testserver") -> httpx.AsyncClient:
        """Another browser: its own cookies."""
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.server), base_url=base_url)


async def sign_in(http: httpx.AsyncClient, name: str, password: str = PASSWORD) -> str:
    """Sign in through the login form; returns the session's CSRF token."""
    page = await http.get("/console/login")
    response = await http.post(
        "/console/login",
        data={"csrf_token": csrf_of(page.text), "username": name, "password": password},
    )
    assert response.status_code == 303, response.text
    home = await http.get(response.headers["location"])
    return csrf_of(home.text)


async def submit_case(app: App, *, channel: str = "wechat", **fields: Any) -> CaseView:
    draft = CaseDraft(
        user_key=fields.pop("user_key", "worker-1"),
        channel=channel,
        address=fields.pop("address", "openid-worker-1"),
        category=fields.pop("category", "wages"),
        district=fields.pop("district", "西青区"),
        phone=fields.pop("phone", "13812345678"),
        employer=fields.pop("employer", "某某建筑公司"),
        description=fields.pop("description", "干了三个月活，老板一直不给工资。"),
        consent_at=datetime.now(UTC),
        consent_version=CONSENT_VERSION,
    )
    assert not fields, fields
    return await app.desk.submit(draft, state_after=lambda _case: {})


@pytest.fixture(scope="session")
def plan_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with the plan imported, made once; each test works on its own copy."""
    folder = tmp_path_factory.mktemp("plan-db")
    engine = engine_in(folder)
    import_plan(engine)
    with engine.connect() as connection:  # everything into the main file, so a copy has it all
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return folder / "server.db"


@pytest.fixture
def engine(tmp_path: Path, plan_database: Path) -> Iterator[Engine]:
    shutil.copyfile(plan_database, tmp_path / "server.db")
    engine = engine_in(tmp_path)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path)


@contextlib.asynccontextmanager
async def serving(
    settings: Settings, engine: Engine, matcher: Matcher
) -> AsyncIterator[ConsoleServer]:
    app = compose(settings, engine=engine, matcher=matcher, secret=USER_KEY_SECRET)
    server = build_server(app, [*app.channels(), app.console(CHEAP_PASSWORDS)])
    async with server.router.lifespan_context(server):
        transport = httpx.ASGITransport(app=server)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield ConsoleServer(app, server, http, engine)


@pytest.fixture
async def console(
    settings: Settings, engine: Engine, plan_matcher: Matcher
) -> AsyncIterator[ConsoleServer]:
    async with serving(settings, engine, plan_matcher) as server:
        yield server
