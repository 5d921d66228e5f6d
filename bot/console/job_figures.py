"""The job postings' figures as console tables: the overview, and per district and per trade."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from sqlmodel import Session

from bot.campaigns.job_stats import JobFigures, job_figures
from bot.console.figures import Table
from bot.storage.models import utc_now

BREAKDOWN_HEADER = ("有效岗位", "想去的人", "打开次数")


def _figures(since: datetime, session: Session) -> JobFigures:
    days = max(1, round((utc_now() - since).total_seconds() / 86400))
    return job_figures(utc_now(), days=days, session=session)


def overview(since: datetime, session: Session) -> Table:
    """The first column and the figure: what `counts_chart` draws."""
    found = _figures(since, session)
    return Table(
        ("项目", "数"),
        [
            ("导入的岗位", found.imported),
            ("有效岗位", found.live),
            ("设置推送条件的人", found.preferences),
            ("推送次数", found.digests_sent),
            ("岗位被打开", found.opened),
            ("被举报", found.reported),
        ],
    )


def _breakdown(
    label: str, pick: Callable[[JobFigures], Mapping[str, tuple[int, int, int]]]
) -> Callable[[datetime, Session], Table]:
    def compute(since: datetime, session: Session) -> Table:
        rows = pick(_figures(since, session))
        return Table((label, *BREAKDOWN_HEADER), [(name, *counts) for name, counts in rows.items()])

    return compute


def job_tables() -> dict[str, tuple[str, Callable[[datetime, Session], Table]]]:
    return {
        "jobs-overview": ("岗位推送：总览", overview),
        "jobs-by-district": (
            "岗位推送：按区（图为有效岗位数）",
            _breakdown("区", lambda f: f.by_district),
        ),
        "jobs-by-trade": (
            "岗位推送：按工种（图为有效岗位数）",
            _breakdown("工种", lambda f: f.by_trade),
        ),
    }
