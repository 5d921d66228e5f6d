"""The job postings' figures: imported and live, preferences set, digests sent, postings opened,
per district and per trade — for `policybot jobs stats` and the console's figures page."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from bot.storage.job_models import JobEventRecord, JobPostingRecord
from bot.storage.repositories import job_postings as postings
from bot.storage.repositories import job_preferences as preferences
from handlers.campaigns import today_in_tianjin


@dataclass(frozen=True, slots=True)
class JobFigures:
    imported: int
    live: int
    preferences: int
    digests_sent: int
    opened: int
    reported: int
    # name → (live postings, preferences naming it, openings)
    by_district: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    by_trade: dict[str, tuple[int, int, int]] = field(default_factory=dict)


def _table(
    live: Counter[str], wanted: Counter[str], opened: Counter[str]
) -> dict[str, tuple[int, int, int]]:
    names = sorted(set(live) | set(wanted) | set(opened), key=lambda n: (-live[n], n))
    return {name: (live[name], wanted[name], opened[name]) for name in names}


def job_figures(now: datetime, *, days: int, session: Session) -> JobFigures:
    """Counts now (postings, preferences) and over the last `days` (digests, openings)."""
    since = now - timedelta(days=days)
    imported = int(session.exec(select(func.count()).select_from(JobPostingRecord)).one())
    live = postings.live_postings(today_in_tianjin(now), session=session)
    people = preferences.all_preferences(session=session)
    # Counted through events, which outlive /forget.
    digests = int(
        session.exec(
            select(func.count()).where(
                col(JobEventRecord.kind) == postings.DIGEST_SENT, col(JobEventRecord.at) >= since
            )
        ).one()
    )
    opened_rows = session.exec(
        select(JobPostingRecord.district, JobPostingRecord.trade_key, JobEventRecord.kind)
        .join(JobPostingRecord, col(JobPostingRecord.id) == col(JobEventRecord.posting_id))
        .where(col(JobEventRecord.at) >= since)
    ).all()
    opened_d: Counter[str] = Counter()
    opened_t: Counter[str] = Counter()
    reported = 0
    for district, trade, kind in opened_rows:
        if kind == postings.OPENED:
            opened_d[district] += 1
            opened_t[trade] += 1
        elif kind == postings.REPORTED:
            reported += 1
    return JobFigures(
        imported=imported,
        live=len(live),
        preferences=len(people),
        digests_sent=digests,
        opened=sum(opened_d.values()),
        reported=reported,
        by_district=_table(
            Counter(r.district for r in live),
            Counter(d for p in people for d in p.districts),
            opened_d,
        ),
        by_trade=_table(
            Counter(r.trade_key for r in live),
            Counter(t for p in people for t in p.trades),
            opened_t,
        ),
    )
