"""Forgetting what is past its time: question texts, idle conversation states, half-filled
referrals and the personal data of long-closed cases (the housekeeping round runs it).

Every process runs the round. On PostgreSQL one at a time does the work (an advisory lock; the
others skip that round), and every step is a conditional statement that touches only rows still
past their time, so a row another process (or a worker's /forget) changed or deleted first is
simply skipped: running it anywhere, any number of times, is harmless."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from bot.events import log_event
from bot.settings import Settings
from bot.storage.engine import run_transaction
from bot.storage.models import utc_now
from bot.storage.repositories.cases import anonymise_closed_before
from bot.storage.repositories.conversations import purge_expired_drafts, purge_question_texts
from bot.storage.round_lock import RETENTION_LOCK_KEY, try_round_lock
from handlers.legal_aid import DRAFT_KEY


def enforce_retention(settings: Settings, engine: Engine) -> int:
    """One purge in one transaction; returns the number of question texts purged."""
    privacy = settings.privacy

    def purge(session: Session) -> tuple[int, int, int] | None:
        if not try_round_lock(RETENTION_LOCK_KEY, session=session):
            return None  # another process is doing this round right now
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
        return purged, drafts, cases

    done = run_transaction(engine, purge)
    if done is None:
        log_event("retention_skipped", reason="another process is running it")
        return 0
    purged, drafts, cases = done
    log_event(
        "retention_enforced", question_texts_purged=purged, drafts_dropped=drafts, cases=cases
    )
    return purged
