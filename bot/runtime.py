"""The composition root: settings in, the ready parts out (database, index, dialogue, user keys)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from bot.campaign_store import SqlCampaignNotices, SqlSubscriptionStore
from bot.database import create_engine_for, init_db
from bot.dialogue_store import SqlDialogueStore
from bot.events import log_event
from bot.knowledge_base import build_matcher, import_startup_sources
from bot.repositories.app_secret import get_or_create_secret
from bot.repositories.conversations import purge_question_texts
from bot.settings import Settings
from bot.user_keys import UserKeyHasher
from handlers.dialogue import Dialogue
from handlers.subscriptions import Subscriptions
from knowledge.match import Matcher

USER_KEY_SECRET_NAME = "user_key_hmac"


@dataclass(frozen=True, slots=True)
class Runtime:
    engine: Engine
    matcher: Matcher
    dialogue: Dialogue
    user_keys: UserKeyHasher


def prepare_engine(settings: Settings) -> Engine:
    engine = create_engine_for(settings.database.url, echo=settings.database.echo)
    init_db(engine)
    return engine


def prepare_matcher(settings: Settings, engine: Engine) -> Matcher:
    """Bundled plan imported (first start, or a newer bundled text), index built once."""
    started = time.perf_counter()
    reports = import_startup_sources(engine, list(settings.knowledge.extra_sources))
    matcher = build_matcher(engine)
    log_event(
        "knowledge_ready",
        documents=len(reports),
        clauses=len(matcher.entries),
        imported=sum(1 for r in reports if r.outcome != "unchanged"),
        seconds=round(time.perf_counter() - started, 3),
    )
    return matcher


def enforce_retention(engine: Engine, retention: timedelta) -> int:
    """Forget question texts older than the retention period (run at start and periodically)."""
    with Session(engine) as session:
        purged = purge_question_texts(older_than=retention, session=session)
        session.commit()
    log_event("retention_enforced", question_texts_purged=purged)
    return purged


def build_runtime(settings: Settings) -> Runtime:
    engine = prepare_engine(settings)
    matcher = prepare_matcher(settings, engine)
    with Session(engine) as session:
        configured = settings.privacy.user_key_secret
        secret = (
            configured.get_secret_value()
            if configured is not None
            else get_or_create_secret(USER_KEY_SECRET_NAME, session=session)
        )
        session.commit()
    enforce_retention(engine, timedelta(days=settings.privacy.question_retention_days))
    return Runtime(
        engine=engine,
        matcher=matcher,
        dialogue=Dialogue(
            matcher,
            SqlDialogueStore(engine),
            subscriptions=Subscriptions(SqlSubscriptionStore(engine)),
            campaigns=SqlCampaignNotices(engine),
        ),
        user_keys=UserKeyHasher(secret),
    )
