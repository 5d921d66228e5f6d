"""Campaigns in the database, on SQLite and PostgreSQL: deep-link attribution, subscriptions,
information in the window, and the per-day figures (with and without the legal-aid table)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.campaigns.broadcasts import audience
from bot.campaigns.stats import campaign_figures, draw_chart, format_figures
from bot.storage.campaign_store import SqlCampaignNotices, SqlSubscriptionStore
from bot.storage.dialogue_store import SqlDialogueStore
from bot.storage.models import CampaignArrival, LegalAidCase, SubscriptionRecord, UserRecord
from bot.storage.repositories import broadcasts, campaigns
from handlers.cases import BEIJING as CHINA_TIME
from handlers.cases import CONSENT_VERSION
from handlers.messages import QuestionRecord

CODE = "chunfeng2027"


def create(session: Session, code: str = CODE, *, topics: list[str] | None = None) -> None:
    campaigns.create_campaign(
        code,
        name="春风行动",
        starts_on=date(2027, 2, 1),
        ends_on=date(2027, 3, 31),
        topics=["employment"] if topics is None else topics,
        info="3月1日西青区招聘会。",
        session=session,
    )
    session.commit()


def arrivals(engine: Engine) -> list[CampaignArrival]:
    with Session(engine) as session:
        return list(session.exec(select(CampaignArrival).order_by(CampaignArrival.id)))


async def test_a_deep_link_is_attributed_to_campaign_and_place(engine: Engine) -> None:
    with Session(engine) as session:
        create(session)
    store = SqlDialogueStore(engine)
    await store.touch_user("u1", "telegram", language=None, source=None)
    await store.touch_user("u1", "telegram", language=None, source=f"{CODE}_xiqing-station")
    (arrival,) = arrivals(engine)
    assert (arrival.campaign_code, arrival.place, arrival.new_user) == (
        CODE,
        "xiqing-station",
        True,
    )
    with Session(engine) as session:
        user = session.get(UserRecord, "u1")
    assert user is not None and user.source == f"{CODE}_xiqing-station"


async def test_unknown_payloads_are_kept_raw_without_attribution(engine: Engine) -> None:
    store = SqlDialogueStore(engine)
    await store.touch_user("u1", "telegram", language=None, source="poster42_xiqing")
    assert arrivals(engine) == []
    with Session(engine) as session:
        user = session.get(UserRecord, "u1")
    assert user is not None and user.source == "poster42_xiqing"


def test_the_longest_existing_code_wins(session: Session) -> None:
    create(session, "chun")
    create(session, "chun_feng")
    found = campaigns.parse_source("chun_feng_xiqing", session=session)
    assert found == campaigns.DeepLinkSource("chun_feng", "xiqing")
    assert campaigns.parse_source("chun", session=session) == campaigns.DeepLinkSource("chun", "")


async def test_a_returning_person_is_not_a_new_user(engine: Engine) -> None:
    with Session(engine) as session:
        create(session)
    store = SqlDialogueStore(engine)
    await store.touch_user("u1", "telegram", language=None, source=f"{CODE}_a")
    await store.save_state("u1", {"known": True})
    await store.touch_user("u1", "telegram", language=None, source=f"{CODE}_b")
    assert [a.new_user for a in arrivals(engine)] == [True, False]


def test_codes_and_payloads_follow_telegrams_rule(session: Session) -> None:
    with pytest.raises(campaigns.CampaignError):
        create(session, "春风")
    with pytest.raises(campaigns.CampaignError):
        campaigns.deep_link_payload("c" * 60, "xiqing")
    assert campaigns.deep_link_payload(CODE, "xiqing") == f"{CODE}_xiqing"


async def test_subscribing_keeps_the_address_only_while_subscribed(engine: Engine) -> None:
    with Session(engine) as session:
        create(session)
    await SqlDialogueStore(engine).touch_user("u1", "telegram", language=None, source=f"{CODE}_x")
    store = SqlSubscriptionStore(engine)
    await store.subscribe("u1", "telegram", address="4242", topics=["jobs"])
    assert await store.subscribed_topics("u1") == ["jobs"]
    with Session(engine) as session:
        record = session.get(SubscriptionRecord, "u1")
    assert record is not None and record.address == "4242" and record.campaign_code == CODE
    assert await store.unsubscribe("u1") is True
    assert await store.unsubscribe("u1") is False
    with Session(engine) as session:
        record = session.get(SubscriptionRecord, "u1")
    assert record is not None and record.address is None and not record.active
    assert await store.subscribed_topics("u1") is None


async def test_notices_only_inside_the_window_and_on_the_topics(engine: Engine) -> None:
    with Session(engine) as session:
        create(session)
    notices = SqlCampaignNotices(engine)
    assert [n.code for n in await notices.notices_for("employment", date(2027, 3, 31))] == [CODE]
    assert await notices.notices_for("employment", date(2027, 4, 1)) == []
    assert await notices.notices_for("schooling", date(2027, 3, 1)) == []


def test_a_broadcast_reaches_only_interested_subscribers(session: Session) -> None:
    create(session)
    broadcasts.subscribe("all", "telegram", address="1", topics=[], session=session)
    broadcasts.subscribe("jobs", "telegram", address="2", topics=["jobs"], session=session)
    broadcasts.subscribe("school", "telegram", address="3", topics=["school"], session=session)
    broadcasts.subscribe("gone", "telegram", address="4", topics=[], session=session)
    broadcasts.unsubscribe("gone", session=session)
    # Broadcasts go through Telegram: a WeChat openid is not a chat id it could send to.
    broadcasts.subscribe("wechat", "wechat", address="oWorker_0001", topics=[], session=session)
    campaign = campaigns.get_campaign(CODE, session=session)
    assert campaign is not None
    queued = broadcasts.queue_broadcast(
        campaign, "消息", not_before=None, audience=audience(), session=session
    )
    session.commit()
    assert queued.broadcast.id is not None
    pending, _ = broadcasts.pending_deliveries(queued.broadcast.id, session=session)
    assert sorted(p.user_key for p in pending) == ["all", "jobs"]
    again = broadcasts.queue_broadcast(
        campaign, "消息", not_before=None, audience=audience(), session=session
    )
    assert not again.created and again.broadcast.id == queued.broadcast.id


def legal_aid_case(number: str, created_at: datetime, source: str | None) -> LegalAidCase:
    """A case as the legal-aid flow stores it; `source` is the worker's deep link then."""
    return LegalAidCase(
        number=number, channel="telegram", source=source, category="wages", district="西青区",
        consent_at=created_at, consent_version=CONSENT_VERSION, created_at=created_at,
    )  # fmt: skip


async def test_figures_per_day_with_legal_aid_cases(engine: Engine, tmp_path: Path) -> None:
    with Session(engine) as session:
        create(session)
    store = SqlDialogueStore(engine)
    for user, place in (("u1", "xiqing"), ("u2", "xiqing"), ("u3", "station")):
        await store.touch_user(user, "telegram", language=None, source=f"{CODE}_{place}")
    record = QuestionRecord("2.1.4", "plan", 5.0, "employment", False, False, 3.0)
    await store.record_question("u1", "telegram", record, text=None)
    await store.record_question("u3", "telegram", record, text=None)
    await store.record_question("stranger", "telegram", record, text=None)
    await SqlSubscriptionStore(engine).subscribe("u2", "telegram", address="2", topics=[])
    with Session(engine) as session:
        assert campaign_figures(CODE, session=session).totals().legal_aid_cases == 0
    # Sent a few minutes before midnight UTC: already the next day in Tianjin.
    late = datetime.now(UTC).replace(hour=23, minute=50)
    with Session(engine) as session:
        for number, source in (
            ("A1", f"{CODE}_xiqing"), ("A2", CODE), ("A3", f"{CODE}x_other"), ("A4", None)
        ):  # fmt: skip
            session.add(legal_aid_case(number, late, source))
        session.commit()
    with Session(engine) as session:
        figures = campaign_figures(CODE, session=session)
    total = figures.totals()
    assert dict(total.new_users_by_place) == {"xiqing": 2, "station": 1}
    assert dict(total.questions_by_topic) == {"employment": 2}
    assert (total.legal_aid_cases, total.subscriptions) == (2, 1)
    case_day = (late.astimezone(CHINA_TIME)).date()
    assert figures.days[case_day].legal_aid_cases == 2 and case_day == late.date() + timedelta(1)
    assert "合计" in format_figures(figures)
    chart = draw_chart(figures, tmp_path / "stats.png")
    with Image.open(chart) as image:
        assert image.format == "PNG" and image.width > 500
