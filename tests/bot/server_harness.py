"""The real ASGI app (`bot.app.compose` + `bot.server.build_server`) on a temp SQLite database,
reached through httpx in-process."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine
from starlette.applications import Starlette

from bot.app import App, compose
from bot.server import build_server
from bot.settings import Settings, load_settings
from bot.storage.engine import create_engine_for, init_db
from bot.user_keys import UserKeyHasher
from handlers.dialogue import Dialogue
from knowledge.match import Matcher

USER_KEY_SECRET = "test-secret"


def settings_for(tmp_path: Path, **sections: Any) -> Settings:
    """Defaults plus the given sections; the repository's config.toml is not read."""
    config = tmp_path / "empty.toml"
    config.write_text("", encoding="utf-8")
    return load_settings(config, **sections)


def engine_in(tmp_path: Path) -> Engine:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'server.db'}")
    init_db(engine)
    return engine


def production_app(settings: Settings, engine: Engine, matcher: Matcher) -> App:
    """The application as `bot.app` wires it, on the test's engine and index."""
    return compose(settings, engine=engine, matcher=matcher, secret=USER_KEY_SECRET)


def production_dialogue(settings: Settings, engine: Engine, matcher: Matcher) -> Dialogue:
    """The dialogue as `bot.app` composes it, legal-aid flow included (no staff chat)."""
    return production_app(settings, engine, matcher).dialogue


@dataclass
class Server:
    app: Starlette
    http: httpx.AsyncClient
    engine: Engine
    user_keys: UserKeyHasher


@contextlib.asynccontextmanager
async def running_server(
    settings: Settings, engine: Engine, matcher: Matcher
) -> AsyncIterator[Server]:
    """The app with its lifespan run (start-up and shutdown hooks), as uvicorn would."""
    wired = production_app(settings, engine, matcher)
    app = build_server(wired, wired.channels())
    user_keys = wired.user_keys
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield Server(app, http, engine, user_keys)
