"""统计: every figure as a server-drawn chart with its table, and each as a CSV download."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial

from sqlmodel import Session
from starlette.responses import Response

from bot.console import figures
from bot.console.charts import horizontal_bars, stacked_bars
from bot.console.context import Console
from bot.console.export import CSV_TYPE, table_csv
from bot.console.figures import Cell, Table
from bot.console.guard import ConsoleRoute, StaffRequest
from bot.console.job_figures import job_tables
from bot.console.pages import download
from bot.console.roles import FIGURES
from bot.storage.engine import in_transaction
from bot.storage.models import utc_now
from handlers.cases import BEIJING

PERIODS = (7, 30, 90, 365)
DEFAULT_DAYS = 30
MAX_SERIES = 7
OTHER_TOPICS = "其余主题"


@dataclass(frozen=True, slots=True)
class FigureSpec:
    title: str
    compute: Callable[[datetime, Session], Table]
    # The title, the numbers, and the period's days (so a chart over time shows the quiet ones).
    draw: Callable[[str, Table, list[date]], str]


def _axis(table: Table, days: list[date], *, weekly: bool) -> list[str]:
    """Every day (or week) of the period, and any the table has besides."""
    shown = {d - timedelta(days=d.weekday()) if weekly else d for d in days}
    return sorted({d.isoformat() for d in shown} | {str(row[0]) for row in table.rows})


def topics_chart(title: str, table: Table, days: list[date], *, weekly: bool = False) -> str:
    """Periods × topics: the most asked topics as their own series, the rest together."""
    periods = _axis(table, days, weekly=weekly)
    totals: Counter[str] = Counter()
    for _period, topic, count in table.rows:
        totals[str(topic)] += int(count)
    leading = [topic for topic, _ in totals.most_common(MAX_SERIES)]
    values: dict[str, list[float]] = {topic: [0.0] * len(periods) for topic in leading}
    if len(totals) > len(leading):
        values[OTHER_TOPICS] = [0.0] * len(periods)
    index = {period: i for i, period in enumerate(periods)}
    for period, topic, count in table.rows:
        name = str(topic) if str(topic) in values and str(topic) != OTHER_TOPICS else OTHER_TOPICS
        values[name][index[str(period)]] += int(count)
    return stacked_bars(title, periods, list(values.items()))


def quality_chart(title: str, table: Table, days: list[date]) -> str:
    axis = _axis(table, days, weekly=False)
    by_day = {str(row[0]): row for row in table.rows}
    empty: tuple[Cell, ...] = ("", 0, 0, 0, 0, 0)

    def column(index: int) -> list[float]:
        return [float(by_day.get(day, empty)[index]) for day in axis]

    total, unanswered, up, down = column(1), column(2), column(4), column(5)
    unrated = [t - u - a - b for t, u, a, b in zip(total, unanswered, up, down, strict=True)]
    series = [("未答上", unanswered), ("👎 没用", down), ("👍 有用", up), ("答了未评价", unrated)]
    return stacked_bars(title, axis, series)


def counts_chart(title: str, table: Table, _days: list[date]) -> str:
    return horizontal_bars(title, [(str(row[0]), float(row[1])) for row in table.rows])


def times_chart(title: str, table: Table, _days: list[date]) -> str:
    bars: list[tuple[str, float]] = []
    for label, _cases, _claimed, claim_hours, _closed, close_hours in table.rows:
        if claim_hours != "":
            bars.append((f"{label}·接单", float(claim_hours)))
        if close_hours != "":
            bars.append((f"{label}·结案", float(close_hours)))
    return horizontal_bars(title, bars)


def places_chart(title: str, table: Table, _days: list[date]) -> str:
    return horizontal_bars(title, [(f"{row[1]}·{row[2]}", float(row[4])) for row in table.rows])


def _questions(weekly: bool) -> Callable[[datetime, Session], Table]:
    return lambda since, session: figures.questions_by_topic(since, session=session, weekly=weekly)


def _cases_by(field: str) -> Callable[[datetime, Session], Table]:
    return lambda since, session: figures.cases_by(field, since, session=session)


FIGURES_SHOWN: Mapping[str, FigureSpec] = {
    "questions-daily": FigureSpec("每天各主题提问数", _questions(False), topics_chart),
    "questions-weekly": FigureSpec(
        "每周各主题提问数", _questions(True), partial(topics_chart, weekly=True)
    ),
    "answer-quality": FigureSpec(
        "每天答上与未答上、👍 与 👎",
        lambda since, session: figures.answer_quality(since, session=session),
        quality_chart,
    ),
    "cases-by-type": FigureSpec("法律援助案件：按类型", _cases_by("category"), counts_chart),
    "cases-by-district": FigureSpec("法律援助案件：按区", _cases_by("district"), counts_chart),
    "cases-by-status": FigureSpec("法律援助案件：按状态", _cases_by("status"), counts_chart),
    "case-times": FigureSpec(
        "从提交到接单、到结案的中位时间（小时）",
        lambda since, session: figures.case_times(since, session=session),
        times_chart,
    ),
    "campaign-places": FigureSpec(
        "活动海报各地点：扫码 → 提问 → 案件（图为人数）",
        lambda since, session: figures.campaign_places(since, session=session),
        places_chart,
    ),
    **{
        name: FigureSpec(title, compute, counts_chart)
        for name, (title, compute) in job_tables().items()
    },
}


def period_days(value: str | None) -> int:
    return (
        int(value)
        if value is not None and value.isdigit() and int(value) in PERIODS
        else DEFAULT_DAYS
    )


def period_days_list(since: datetime) -> list[date]:
    first, today = since.astimezone(BEIJING).date(), utc_now().astimezone(BEIJING).date()
    return [first + timedelta(days=i) for i in range((today - first).days + 1)]


def period_start(days: int) -> datetime:
    """Midnight in Tianjin, `days` days ago counting today."""
    today = utc_now().astimezone(BEIJING).date()
    return datetime.combine(today - timedelta(days=days - 1), time(), BEIJING)


class FigureRoutes:
    def __init__(self, console: Console) -> None:
        self._console = console

    async def page(self, visit: StaffRequest) -> Response:
        days = period_days(visit.request.query_params.get("days"))
        since = period_start(days)

        def work(session: Session) -> dict[str, Table]:
            return {name: spec.compute(since, session) for name, spec in FIGURES_SHOWN.items()}

        tables = await in_transaction(self._console.engine, work)
        axis = period_days_list(since)
        shown = [
            (name, spec.title, spec.draw(spec.title, tables[name], axis), tables[name])
            for name, spec in FIGURES_SHOWN.items()
        ]
        return self._console.pages.render(
            "figures.html", visit.staff, figures=shown, days=days, periods=PERIODS
        )

    async def csv(self, visit: StaffRequest) -> Response:
        spec = FIGURES_SHOWN.get(visit.request.path_params["name"])
        if spec is None:
            return self._console.pages.refusal(visit.staff, 404, "没有这个统计。")
        days = period_days(visit.request.query_params.get("days"))
        table = await in_transaction(
            self._console.engine, partial(spec.compute, period_start(days))
        )
        name = visit.request.path_params["name"]
        return download(table_csv(table.header, table.rows), f"{name}-{days}d.csv", CSV_TYPE)

    def routes(self) -> list[ConsoleRoute]:
        return [
            ConsoleRoute("/console/figures", self.page, FIGURES),
            ConsoleRoute("/console/figures/{name:str}.csv", self.csv, FIGURES),
        ]
