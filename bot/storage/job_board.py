"""`handlers.job_board.JobBoard` on the database: one short transaction per call in a worker
thread. Only live postings (not past their date, not expired, not hidden) ever reach a worker."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.storage.engine import in_transaction
from bot.storage.job_models import JobDigestRecord, JobPostingRecord, JobPreferenceRecord
from bot.storage.models import utc_now
from bot.storage.repositories import job_postings as postings
from bot.storage.repositories import job_preferences as preferences
from handlers import texts
from handlers.campaigns import today_in_tianjin
from handlers.job_board import PostingView, digest_text, open_choices
from handlers.messages import IncomingMessage, Reply
from knowledge.jobs import JobPreferences, JobTables, PostingFacts, best_matches

T = TypeVar("T")
HELD = "held"
SHOWN = "shown"


def view_of(record: JobPostingRecord) -> PostingView:
    assert record.id is not None
    return PostingView(
        id=record.id,
        title=record.title,
        employer=record.employer,
        district=record.district,
        address=record.address,
        trade=record.trade,
        pay_min=record.pay_min,
        pay_max=record.pay_max,
        pay_unit=record.pay_unit,
        shift=record.shift,
        board=record.board,
        phone=record.phone,
        valid_until=record.valid_until,
        source=record.source,
        imported_at=record.imported_at,
    )


def facts_of(record: JobPostingRecord) -> PostingFacts:
    assert record.id is not None
    return PostingFacts(
        record.id,
        record.district,
        record.trade_key,
        record.pay_max,
        record.pay_unit,
        record.imported_at,
    )


def wanted_of(record: JobPreferenceRecord) -> JobPreferences:
    return JobPreferences(tuple(record.districts), tuple(record.trades), record.min_monthly_pay)


def matching_views(
    wanted: JobPreferences,
    live: Sequence[JobPostingRecord],
    tables: JobTables,
    *,
    limit: int,
    excluded: frozenset[int] | set[int] = frozenset(),
) -> list[PostingView]:
    by_id = {record.id: record for record in live if record.id not in excluded}
    found = best_matches(wanted, (facts_of(r) for r in by_id.values()), tables, limit=limit)
    return [view_of(by_id[facts.id]) for facts in found]


def live_views(ids: Sequence[int], now: datetime, *, session: Session) -> list[PostingView]:
    """The postings of a stored digest that are still live, in the digest's order."""
    today = today_in_tianjin(now)
    records = {
        r.id: r
        for r in session.exec(
            select(JobPostingRecord).where(col(JobPostingRecord.id).in_(list(ids)))
        ).all()
    }
    return [
        view_of(records[i]) for i in ids if i in records and postings.is_live(records[i], today)
    ]


def digest_reply(views: Sequence[PostingView], *, held: bool = False) -> Reply:
    text = digest_text(views)
    if held:
        text = f"{texts.JOBS_HELD_HEADER}\n{text}"
    return Reply(text, open_choices([view.id for view in views]))


class SqlJobBoard:
    """Postings and preferences on an engine; `now` is injectable so tests drive the clock."""

    def __init__(
        self, engine: Engine, tables: JobTables, *, now: Callable[[], datetime] = utc_now
    ) -> None:
        self._engine = engine
        self._tables = tables
        self._now = now

    async def _run(self, work: Callable[[Session], T]) -> T:
        return await in_transaction(self._engine, work)

    async def preferences_of(self, user_key: str) -> JobPreferences | None:
        record = await self._run(lambda s: preferences.preferences_of(user_key, session=s))
        return wanted_of(record) if record is not None else None

    async def save_preferences(
        self, user_key: str, channel: str, *, address: str | None, wanted: JobPreferences
    ) -> None:
        def work(session: Session) -> None:
            preferences.save_preferences(
                user_key,
                channel,
                address=address,
                districts=list(wanted.districts),
                trades=list(wanted.trades),
                min_monthly_pay=wanted.min_monthly_pay,
                at=self._now(),
                session=session,
            )
            postings.record_event(
                postings.PREFERENCES_SET, posting_id=None, user_key=user_key, session=session
            )

        await self._run(work)

    async def remove_preferences(self, user_key: str) -> bool:
        return await self._run(lambda s: preferences.delete_preferences(user_key, session=s))

    async def best_matches(
        self, user_key: str, wanted: JobPreferences, *, limit: int
    ) -> list[PostingView]:
        today = today_in_tianjin(self._now())

        def work(session: Session) -> list[PostingView]:
            live = postings.live_postings(today, session=session)
            views = matching_views(wanted, live, self._tables, limit=limit)
            if preferences.preferences_of(user_key, session=session) is not None:
                preferences.mark_shown(user_key, [v.id for v in views], session=session)
            return views

        return await self._run(work)

    async def open_posting(self, user_key: str, posting_id: int) -> PostingView | None:
        today = today_in_tianjin(self._now())

        def work(session: Session) -> PostingView | None:
            record = session.get(JobPostingRecord, posting_id)
            if record is None or not postings.is_live(record, today):
                return None
            postings.record_event(
                postings.OPENED, posting_id=posting_id, user_key=user_key, session=session
            )
            return view_of(record)

        return await self._run(work)

    async def report_posting(self, user_key: str, posting_id: int) -> bool:
        def work(session: Session) -> bool:
            if session.get(JobPostingRecord, posting_id) is None:
                return False
            postings.record_event(
                postings.REPORTED, posting_id=posting_id, user_key=user_key, session=session
            )
            return True

        return await self._run(work)

    async def held_digests(self, message: IncomingMessage) -> list[Reply]:
        now = self._now()

        def work(session: Session) -> list[Reply]:
            if not preferences.touch(message.user_key, at=now, session=session):
                return []
            held = session.exec(
                select(JobDigestRecord).where(
                    col(JobDigestRecord.user_key) == message.user_key,
                    col(JobDigestRecord.status) == HELD,
                )
            ).all()
            replies: list[Reply] = []
            for digest in held:
                digest.status, digest.sent_at = SHOWN, now
                session.add(digest)
                views = live_views(digest.posting_ids, now, session=session)
                if views:
                    postings.record_event(
                        postings.DIGEST_SENT, posting_id=None, user_key=None, session=session
                    )
                    replies.append(digest_reply(views, held=True))
            return replies

        return await self._run(work)
