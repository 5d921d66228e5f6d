"""A campaign's figures per day (Tianjin dates): new users by place, their questions by topic,
legal-aid cases from its links, subscriptions — as a table and as a chart."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from sqlmodel import Session, col, func, select

from bot.storage.models import CampaignArrival, LegalAidCase, QuestionRow, SubscriptionRecord
from handlers.cases import BEIJING

NO_TOPIC = "其他"


@dataclass
class DayFigures:
    new_users_by_place: Counter[str] = field(default_factory=Counter)
    questions_by_topic: Counter[str] = field(default_factory=Counter)
    legal_aid_cases: int = 0
    subscriptions: int = 0


@dataclass
class CampaignFigures:
    code: str
    days: dict[date, DayFigures] = field(default_factory=dict)

    def day(self, moment: datetime) -> DayFigures:
        aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return self.days.setdefault(aware.astimezone(BEIJING).date(), DayFigures())

    def totals(self) -> DayFigures:
        total = DayFigures()
        for figures in self.days.values():
            total.new_users_by_place.update(figures.new_users_by_place)
            total.questions_by_topic.update(figures.questions_by_topic)
            total.legal_aid_cases += figures.legal_aid_cases
            total.subscriptions += figures.subscriptions
        return total


def campaign_figures(code: str, *, session: Session) -> CampaignFigures:
    figures = CampaignFigures(code)
    arrivals = session.exec(
        select(CampaignArrival.arrived_at, CampaignArrival.place).where(
            col(CampaignArrival.campaign_code) == code, col(CampaignArrival.new_user)
        )
    ).all()
    for arrived_at, place in arrivals:
        figures.day(arrived_at).new_users_by_place[place or "-"] += 1
    # Questions from people the campaign brought, asked after they first arrived through it.
    first_arrival = (
        select(
            col(CampaignArrival.user_key).label("user_key"),
            func.min(CampaignArrival.arrived_at).label("first_at"),
        )
        .where(col(CampaignArrival.campaign_code) == code)
        .group_by(col(CampaignArrival.user_key))
        .subquery()
    )
    questions = session.exec(
        select(QuestionRow.asked_at, QuestionRow.topic)
        .join(first_arrival, first_arrival.c.user_key == col(QuestionRow.user_key))
        .where(col(QuestionRow.asked_at) >= first_arrival.c.first_at)
    ).all()
    for asked_at, topic in questions:
        figures.day(asked_at).questions_by_topic[topic or NO_TOPIC] += 1
    subscribed = session.exec(
        select(SubscriptionRecord.subscribed_at).where(
            col(SubscriptionRecord.campaign_code) == code
        )
    ).all()
    for subscribed_at in subscribed:
        figures.day(subscribed_at).subscriptions += 1
    # A case counts for the campaign whose link the worker came through (stored with the case).
    source = col(LegalAidCase.source)
    cases = session.exec(
        select(LegalAidCase.created_at).where(
            (source == code) | source.startswith(f"{code}_", autoescape=True)
        )
    ).all()
    for created_at in cases:
        figures.day(created_at).legal_aid_cases += 1
    return figures


def format_figures(figures: CampaignFigures) -> str:
    """The table `policybot campaign stats` prints."""
    lines = [f"活动 {figures.code}：按天（天津时间）"]
    lines.append(f"{'日期':<10}  {'新用户':>5}  {'提问':>5}  {'法律援助':>6}  {'订阅':>5}")
    for day in sorted(figures.days):
        f = figures.days[day]
        lines.append(
            f"{day.isoformat():<12}  {f.new_users_by_place.total():>7}  "
            f"{f.questions_by_topic.total():>7}  {f.legal_aid_cases:>10}  {f.subscriptions:>7}"
        )
    total = figures.totals()
    lines.append(
        f"{'合计':<10}  {total.new_users_by_place.total():>7}  {total.questions_by_topic.total():>7}  "
        f"{total.legal_aid_cases:>10}  {total.subscriptions:>7}"
    )
    places = "、".join(f"{p} {n}" for p, n in total.new_users_by_place.most_common()) or "无"
    topics = "、".join(f"{t} {n}" for t, n in total.questions_by_topic.most_common()) or "无"
    lines.append(f"新用户按地点：{places}")
    lines.append(f"提问按主题：{topics}")
    return "\n".join(lines)


def draw_chart(figures: CampaignFigures, out: Path) -> Path:
    """Four panels per day: new users by place, questions by topic, legal-aid cases, subscriptions."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    from matplotlib import patheffects
    from matplotlib import pyplot as plt
    from matplotlib.font_manager import FontProperties
    from matplotlib.text import Text

    from bot.campaigns.posters import PosterFonts

    fonts = PosterFonts()
    try:
        font = FontProperties(fname=str(fonts.path), size=11)
        days = sorted(figures.days)
        labels = [d.strftime("%m-%d") for d in days]
        positions = list(range(len(days)))
        figure, axes = plt.subplots(4, 1, figsize=(9, 11), sharex=True)
        stacked = (
            (axes[0], "新用户（按地点）", [figures.days[d].new_users_by_place for d in days]),
            (axes[1], "提问（按主题）", [figures.days[d].questions_by_topic for d in days]),
        )
        for axis, title, counters in stacked:
            keys = sorted({key for counter in counters for key in counter})
            bottoms = [0] * len(days)
            for key in keys:
                heights = [counter[key] for counter in counters]
                axis.bar(positions, heights, bottom=bottoms, label=key)
                bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
            axis.set_title(title, fontproperties=font)
            if keys:
                axis.legend(prop=font, fontsize=8, loc="upper left")
        singles = (
            (axes[2], "法律援助案件", [figures.days[d].legal_aid_cases for d in days]),
            (axes[3], "订阅", [figures.days[d].subscriptions for d in days]),
        )
        for axis, title, values in singles:
            axis.bar(positions, values, color="#c41e3a")
            axis.set_title(title, fontproperties=font)
        axes[-1].set_xticks(positions, labels)
        figure.suptitle(f"活动 {figures.code}", fontproperties=font, fontsize=14)
        # The bundled variable font draws at its default weight, Thin: a stroke makes it legible.
        for text in figure.findobj(Text):
            text.set_path_effects([patheffects.withStroke(linewidth=0.7, foreground="black")])
        figure.tight_layout()
        out.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(out, dpi=120)
        plt.close(figure)
    finally:
        fonts.close()
    return out
