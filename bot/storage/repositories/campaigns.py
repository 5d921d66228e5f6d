"""Campaigns, the deep-link arrivals they bring, and the information answers carry in their window."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, col, select

from bot.storage.models import (
    CampaignArrival,
    CampaignRecord,
    ConversationRecord,
    UserRecord,
    utc_now,
)

# Telegram's rule for a deep-link payload (the part after ?start=).
DEEP_LINK_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_PAYLOAD_CHARS = 64
# A person first seen this recently, with no conversation yet, was brought by the link.
NEW_USER_WINDOW = timedelta(minutes=10)


class CampaignError(ValueError):
    """A campaign that cannot be created or used; the message is for the organiser."""


@dataclass(frozen=True, slots=True)
class DeepLinkSource:
    campaign_code: str
    place: str


def is_deep_link_text(value: str) -> bool:
    return bool(DEEP_LINK_PATTERN.fullmatch(value))


def deep_link_payload(code: str, place: str) -> str:
    """`CODE_place`, checked against Telegram's 64-character rule."""
    payload = f"{code}_{place}" if place else code
    if not is_deep_link_text(payload):
        raise CampaignError(
            f"深链接参数 {payload!r} 不合规：最多 {MAX_PAYLOAD_CHARS} 个字符，只能用 A–Z a–z 0–9 _ -"
        )
    return payload


def create_campaign(
    code: str,
    *,
    name: str,
    starts_on: date,
    ends_on: date,
    topics: list[str],
    info: str,
    session: Session,
) -> CampaignRecord:
    if not is_deep_link_text(code):
        raise CampaignError(f"活动代码 {code!r} 不合规：最多 64 个字符，只能用 A–Z a–z 0–9 _ -")
    if ends_on < starts_on:
        raise CampaignError("结束日期早于开始日期")
    if session.get(CampaignRecord, code) is not None:
        raise CampaignError(f"活动 {code} 已经存在")
    campaign = CampaignRecord(
        code=code, name=name, starts_on=starts_on, ends_on=ends_on, topics=topics, info=info
    )
    session.add(campaign)
    session.flush()
    return campaign


def get_campaign(code: str, *, session: Session) -> CampaignRecord | None:
    return session.get(CampaignRecord, code)


def list_campaigns(*, session: Session) -> list[CampaignRecord]:
    return list(session.exec(select(CampaignRecord).order_by(col(CampaignRecord.starts_on))))


def parse_source(payload: str, *, session: Session) -> DeepLinkSource | None:
    """The campaign and place in `CODE_place`; the longest existing code wins (codes may hold _)."""
    candidates = [payload[:i] for i, char in enumerate(payload) if char == "_"] + [payload]
    found = session.exec(
        select(CampaignRecord.code).where(col(CampaignRecord.code).in_(candidates))
    ).all()
    if not found:
        return None
    code = max(found, key=len)
    return DeepLinkSource(code, payload[len(code) + 1 :])


def record_arrival(user_key: str, payload: str, *, session: Session) -> CampaignArrival | None:
    """Attribute a deep link to its campaign and place; unknown payloads stay raw in bot_user."""
    source = parse_source(payload, session=session)
    if source is None:
        return None
    user = session.get(UserRecord, user_key)
    has_conversation = session.get(ConversationRecord, user_key) is not None
    is_new = (
        user is not None
        and not has_conversation
        and utc_now() - user.first_seen <= NEW_USER_WINDOW
        and session.exec(
            select(CampaignArrival.id).where(col(CampaignArrival.user_key) == user_key)
        ).first()
        is None
    )
    arrival = CampaignArrival(
        user_key=user_key, campaign_code=source.campaign_code, place=source.place, new_user=is_new
    )
    session.add(arrival)
    return arrival


def latest_campaign_of(user_key: str, *, session: Session) -> str | None:
    return session.exec(
        select(CampaignArrival.campaign_code)
        .where(col(CampaignArrival.user_key) == user_key)
        .order_by(col(CampaignArrival.id).desc())
    ).first()


def running_campaigns(topic: str, today: date, *, session: Session) -> list[CampaignRecord]:
    """Campaigns whose window holds `today` and whose topics include `topic` (none listed = all)."""
    rows = session.exec(
        select(CampaignRecord)
        .where(col(CampaignRecord.starts_on) <= today, col(CampaignRecord.ends_on) >= today)
        .order_by(col(CampaignRecord.code))
    )
    return [c for c in rows if not c.topics or topic in c.topics]
