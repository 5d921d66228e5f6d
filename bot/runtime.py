"""The composition root: settings in, the ready parts out (database, index, dialogue, user keys)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from bot.campaign_store import SqlCampaignNotices, SqlSubscriptionStore
from bot.case_desk import SqlCaseDesk, StaffChat
from bot.database import create_engine_for, init_db
from bot.dialogue_store import SqlDialogueStore
from bot.events import log_event
from bot.knowledge_base import build_matcher, import_startup_sources
from bot.models import utc_now
from bot.repositories.app_secret import get_or_create_secret
from bot.repositories.cases import anonymise_closed_before
from bot.repositories.conversations import purge_expired_drafts, purge_question_texts
from bot.settings import Settings
from bot.user_keys import UserKeyHasher
from handlers.casework import Casework
from handlers.dialogue import Dialogue
from handlers.flows import build_dialogue
from handlers.legal_aid import DRAFT_KEY, LegalAidFlow
from handlers.subscriptions import Subscriptions
from knowledge.match import Matcher

USER_KEY_SECRET_NAME = "user_key_hmac"


@dataclass(frozen=True, slots=True)
class Runtime:
    engine: Engine
    matcher: Matcher
    dialogue: Dialogue
    user_keys: UserKeyHasher
    casework: Casework
    # Set when the desk commits something to send; the channel's outbox sender waits on it.
    outbox_wakeup: asyncio.Event


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


def enforce_retention(settings: Settings, engine: Engine) -> int:
    """Forget what is past its time (run at start and periodically): question texts, idle
    conversation states, half-filled referrals, personal data of long-closed cases."""
    privacy = settings.privacy
    with Session(engine) as session:
        purged = purge_question_texts(
            older_than=timedelta(days=privacy.question_retention_days), session=session
        )
        drafts = purge_expired_drafts(
            DRAFT_KEY,
            older_than=timedelta(minutes=settings.legal_aid.flow_timeout_minutes),
            session=session,
        )
        cases = anonymise_closed_before(
            utc_now() - timedelta(days=privacy.case_retention_days), session=session
        )
        session.commit()
    log_event(
        "retention_enforced", question_texts_purged=purged, drafts_dropped=drafts, cases=cases
    )
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
    enforce_retention(settings, engine)
    legal_aid = settings.legal_aid
    staff_chat = (
        StaffChat("telegram", str(legal_aid.staff_chat_id))
        if legal_aid.staff_chat_id is not None
        else None
    )
    wakeup = asyncio.Event()
    desk = SqlCaseDesk(engine, staff_chat=staff_chat, on_queued=wakeup.set)
    store = SqlDialogueStore(engine)
    flow = LegalAidFlow(
        desk,
        timeout=timedelta(minutes=legal_aid.flow_timeout_minutes),
        retention_days=settings.privacy.case_retention_days,
        to_simplified=matcher.converter.to_simplified,
    )
    staff_ids = frozenset(f"telegram:{user_id}" for user_id in legal_aid.staff_user_ids)
    return Runtime(
        engine=engine,
        matcher=matcher,
        dialogue=build_dialogue(
            matcher,
            store,
            legal_aid=flow,
            # Broadcasts go out through Telegram only (bot/broadcasts.py).
            subscriptions=Subscriptions(
                SqlSubscriptionStore(engine), broadcast_channels=frozenset({"telegram"})
            ),
            campaigns=SqlCampaignNotices(engine),
        ),
        user_keys=UserKeyHasher(secret),
        casework=Casework(desk, store, staff_ids=staff_ids),
        outbox_wakeup=wakeup,
    )
