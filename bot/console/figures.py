"""The figures organisers and curators read: questions per topic per day and week, the share of
fallbacks and of 👍/👎, cases per type, district and status with the median time to claim and to
close, and each poster place's arrivals → questions → cases. Days are Tianjin days; rows are
counted in Python, so SQLite and PostgreSQL give the same figures."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, func, select

from bot.console.pages import STATUS_LABELS
from bot.storage.models import CampaignArrival, CampaignRecord, LegalAidCase, QuestionRow
from handlers.cases import BEIJING, CATEGORIES

Cell = str | int | float
TOPIC_LABELS: Mapping[str, str] = {
    "employment": "就业", "skills": "技能培训", "rights": "劳动权益", "social_insurance": "社保",
    "legal_aid": "法律援助", "settlement": "落户", "schooling": "子女上学", "housing": "住房",
    "public_services": "公共服务", "campaign": "专项活动", "about_plan": "方案本身",
    "wages": "工资", "contract": "劳动合同", "dismissal": "解除合同", "working_hours": "工时休假",
    "work_injury": "工伤", "arbitration": "仲裁", "residence_permit": "居住证",
}  # fmt: skip
UNANSWERED = "（未答上）"
NO_TOPIC = "（其他）"


@dataclass(frozen=True, slots=True)
class Table:
    """One figure's numbers, as the page shows them and the CSV holds them."""

    header: tuple[str, ...]
    rows: list[tuple[Cell, ...]]


def day_of(moment: datetime) -> date:
    return moment.astimezone(BEIJING).date()


def week_of(moment: datetime) -> date:
    """The Monday the week starts on."""
    day = day_of(moment)
    return day - timedelta(days=day.weekday())


def share(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def topic_label(topic: str | None, fallback: bool) -> str:
    if fallback:
        return UNANSWERED
    return TOPIC_LABELS.get(topic or "", topic or NO_TOPIC)


def _questions(
    since: datetime, *, session: Session
) -> Sequence[tuple[datetime, str | None, bool, bool | None]]:
    return session.exec(
        select(
            QuestionRow.asked_at, QuestionRow.topic, QuestionRow.fallback, QuestionRow.useful
        ).where(col(QuestionRow.asked_at) >= since)
    ).all()


def questions_by_topic(since: datetime, *, session: Session, weekly: bool = False) -> Table:
    counts: Counter[tuple[date, str]] = Counter()
    for asked_at, topic, fallback, _useful in _questions(since, session=session):
        period = week_of(asked_at) if weekly else day_of(asked_at)
        counts[(period, topic_label(topic, fallback))] += 1
    rows: list[tuple[Cell, ...]] = [
        (period.isoformat(), topic, count) for (period, topic), count in sorted(counts.items())
    ]
    return Table(("周（周一）" if weekly else "日期", "主题", "提问数"), rows)


def answer_quality(since: datetime, *, session: Session) -> Table:
    """Per day: questions, fallbacks, 👍 and 👎, and their shares (👍/👎 of those rated)."""
    days: defaultdict[date, Counter[str]] = defaultdict(Counter)
    for asked_at, _topic, fallback, useful in _questions(since, session=session):
        figures = days[day_of(asked_at)]
        figures["total"] += 1
        figures["fallback"] += int(fallback)
        figures["up"] += int(useful is True)
        figures["down"] += int(useful is False)
    rows: list[tuple[Cell, ...]] = []
    for day in sorted(days):
        f = days[day]
        rated = f["up"] + f["down"]
        rows.append(
            (day.isoformat(), f["total"], f["fallback"], share(f["fallback"], f["total"]),
             f["up"], f["down"], share(f["up"], rated), share(f["down"], rated))
        )  # fmt: skip
    header = ("日期", "提问数", "未答上", "未答上占比%", "👍", "👎", "👍占评价%", "👎占评价%")
    return Table(header, rows)


def _cases(since: datetime, *, session: Session) -> list[LegalAidCase]:
    return list(session.exec(select(LegalAidCase).where(col(LegalAidCase.created_at) >= since)))


def cases_by(field: str, since: datetime, *, session: Session) -> Table:
    """Cases per category, district or status."""
    counts: Counter[str] = Counter()
    for record in _cases(since, session=session):
        value = getattr(record, field)
        labels = CATEGORIES if field == "category" else STATUS_LABELS if field == "status" else {}
        counts[labels.get(value, value)] += 1
    titles = {"category": "类型", "district": "区", "status": "状态"}
    return Table((titles[field], "案件数"), [(k, v) for k, v in counts.most_common()])


def _median_hours(durations: list[timedelta]) -> Cell:
    if not durations:
        return ""
    return round(statistics.median(d.total_seconds() for d in durations) / 3600, 1)


def case_times(since: datetime, *, session: Session) -> Table:
    """Median hours from submission to 接单 and to 结案, overall and per type."""
    groups: defaultdict[str, list[LegalAidCase]] = defaultdict(list)
    for record in _cases(since, session=session):
        groups["全部"].append(record)
        groups[CATEGORIES.get(record.category, record.category)].append(record)
    rows: list[tuple[Cell, ...]] = []
    for label, records in groups.items():
        claims = [r.claimed_at - r.created_at for r in records if r.claimed_at]
        closes = [r.closed_at - r.created_at for r in records if r.closed_at]
        rows.append(
            (label, len(records), len(claims), _median_hours(claims), len(closes),
             _median_hours(closes))
        )  # fmt: skip
    header = ("类型", "案件数", "已接单", "接单中位小时", "已结案", "结案中位小时")
    return Table(header, rows)


def campaign_places(since: datetime, *, session: Session) -> Table:
    """Per campaign and poster place: arrivals, the people they brought, those people's
    questions after they first came through that place, and cases from that place's link."""
    names = dict(session.exec(select(CampaignRecord.code, CampaignRecord.name)).all())
    arrivals = session.exec(
        select(CampaignArrival.campaign_code, CampaignArrival.place, CampaignArrival.user_key,
               CampaignArrival.arrived_at)
        .where(col(CampaignArrival.arrived_at) >= since)
    ).all()  # fmt: skip
    first: dict[tuple[str, str], dict[str, datetime]] = defaultdict(dict)
    counted: Counter[tuple[str, str]] = Counter()
    for code, place, user_key, arrived_at in arrivals:
        counted[(code, place)] += 1
        people = first[(code, place)]
        if user_key not in people or arrived_at < people[user_key]:
            people[user_key] = arrived_at
    asked: Counter[tuple[str, str]] = Counter()
    people_keys = {user for people in first.values() for user in people}
    if people_keys:
        questions = session.exec(
            select(QuestionRow.user_key, QuestionRow.asked_at).where(
                col(QuestionRow.user_key).in_(people_keys), col(QuestionRow.asked_at) >= since
            )
        ).all()
        for user_key, asked_at in questions:
            for key, people in first.items():
                if user_key in people and asked_at >= people[user_key]:
                    asked[key] += 1
    cases: dict[str | None, int] = dict(
        session.exec(
            select(LegalAidCase.source, func.count())
            .where(col(LegalAidCase.created_at) >= since, col(LegalAidCase.source).is_not(None))
            .group_by(col(LegalAidCase.source))
        ).all()
    )
    rows: list[tuple[Cell, ...]] = []
    for code, place in sorted(counted):
        payload = f"{code}_{place}" if place else code
        rows.append(
            (names.get(code, code), code, place or "-", counted[(code, place)],
             len(first[(code, place)]), asked[(code, place)], int(cases.get(payload, 0)))
        )  # fmt: skip
    return Table(("活动", "代码", "地点", "扫码次数", "人数", "提问数", "法律援助案件"), rows)
