"""The real ASGI app (build_app) on a temp SQLite database, reached through httpx in-process."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine
from starlette.applications import Starlette

from bot.case_desk import SqlCaseDesk
from bot.database import create_engine_for, init_db
from bot.dialogue_store import SqlDialogueStore
from bot.server import build_app
from bot.settings import Settings, load_settings
from bot.user_keys import UserKeyHasher
from handlers.dialogue import Dialogue
from handlers.flows import build_dialogue
from handlers.legal_aid import LegalAidFlow
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


def production_dialogue(settings: Settings, engine: Engine, matcher: Matcher) -> Dialogue:
    """The dialogue as bot.runtime composes it, legal-aid flow included (no staff chat)."""
    flow = LegalAidFlow(
        SqlCaseDesk(engine, staff_chat=None),
        timeout=timedelta(minutes=settings.legal_aid.flow_timeout_minutes),
        retention_days=settings.privacy.case_retention_days,
        to_simplified=matcher.converter.to_simplified,
    )
    return build_dialogue(matcher, SqlDialogueStore(engine), legal_aid=flow)


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
    user_keys = UserKeyHasher(USER_KEY_SECRET)
    app = build_app(
        settings,
        dialogue=production_dialogue(settings, engine, matcher),
        user_keys=user_keys,
        engine=engine,
        converter=matcher.converter,
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield Server(app, http, engine, user_keys)
