"""A database release 6a79bf1 made, full of its rows, upgraded to head: every row is still there,
byte for byte, and the application reads and carries on with each of them — on SQLite (the start's
own upgrade, after a backup: see test_schema for the copy) and on PostgreSQL (`policybot db
upgrade`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from bot.storage.campaign_store import SqlCampaignNotices, SqlSubscriptionStore
from bot.storage.case_desk import SqlCaseDesk
from bot.storage.channel_store import ChannelStore
from bot.storage.claims import new_lease
from bot.storage.dialogue_store import SqlDialogueStore
from bot.storage.engine import create_engine_for, run_transaction
from bot.storage.repositories import broadcasts, conversations, outbox
from bot.storage.repositories.app_secret import get_or_create_secret
from bot.storage.repositories.cases import get_case_by_number
from bot.storage.repositories.clause_features import cached_features, store_features
from bot.storage.repositories.documents import list_documents, load_document
from bot.storage.schema import prepare_schema, read_state, upgrade
from handlers.cases import CaseStatus, StaffMember
from handlers.messages import IncomingMessage
from knowledge.match import Matcher
from tests.bot.server_harness import production_dialogue, settings_for
from tests.bot.storage.release_6a79bf1 import (
    CAMPAIGN,
    CHOICES,
    DOCUMENT_KEY,
    GONE,
    NOTES,
    RECEIPT_KEY,
    RELEASE_TABLES,
    SECRET,
    TELEGRAM_WORKER,
    WECHAT_WORKER,
    Release,
    create_release_schema,
    dump_rows,
    fill,
    release_columns,
)

STAFF = StaffMember("telegram:2", "乙")


@pytest.fixture
def upgraded(database_url: str) -> Iterator[tuple[Engine, Release, dict[str, list[object]]]]:
    """The release's database with its rows, then upgraded the way each backend is."""
    engine = create_engine_for(database_url)
    try:
        create_release_schema(engine)
        release = fill(engine)
        before = dump_rows(engine)
        if engine.dialect.name == "sqlite":
            report = prepare_schema(engine)  # what `serve` does at start
            assert report is not None and report.backup is not None
        else:
            report = upgrade(engine, back_up=True)  # `policybot db upgrade`
            assert report.backup is None
        assert (report.before, report.stamped, read_state(engine).is_at_head) == (
            "0001",
            True,
            True,
        )
        yield engine, release, before
    finally:
        engine.dispose()


def test_every_row_is_still_there(
    upgraded: tuple[Engine, Release, dict[str, list[object]]],
) -> None:
    engine, _, before = upgraded
    assert sum(len(rows) for rows in before.values()) >= 30
    assert all(before[table] for table in RELEASE_TABLES)  # every table had rows
    # On the release's columns: later revisions add some (0005 the senders' claims).
    assert dump_rows(engine, columns=release_columns()) == before


async def test_a_referral_under_way_is_submitted_and_numbered_after_the_days_cases(
    upgraded: tuple[Engine, Release, dict[str, list[object]]],
    plan_matcher: Matcher,
    tmp_path: Path,
) -> None:
    engine, release, _ = upgraded
    dialogue = production_dialogue(settings_for(tmp_path), engine, plan_matcher)
    message = IncomingMessage.typed(TELEGRAM_WORKER, "telegram", "确认提交", address="2001")
    receipt = (await dialogue.handle(message)).replies[-1].text
    assert f"LA-{release.today}-0003" in receipt
    desk = SqlCaseDesk(engine, staff_chat=None)
    numbers = [case.number for case in await desk.cases_of(TELEGRAM_WORKER)]
    assert set(numbers) == {release.claimed_case, release.pending_case, f"LA-{release.today}-0003"}


async def test_cases_and_their_notes_read_and_change(
    upgraded: tuple[Engine, Release, dict[str, list[object]]],
) -> None:
    engine, release, _ = upgraded
    with Session(engine) as session:
        claimed = get_case_by_number(release.claimed_case, session=session)
        closed = get_case_by_number(release.closed_case, session=session)
    assert claimed is not None and claimed.notes == NOTES and claimed.claimed_by == "甲"
    assert claimed.consent_at.tzinfo is not None
    assert closed is not None and closed.phone is None and closed.anonymised_at is not None
    desk = SqlCaseDesk(engine, staff_chat=None)
    assert claimed.id is not None
    change = await desk.add_note(claimed.id, STAFF, "周五已面谈")
    assert change.case is not None and [note.text for note in change.case.notes] == [
        NOTES[0]["text"],
        "周五已面谈",
    ]
    closing = await desk.close(claimed.id, STAFF, "已立案")
    assert closing.case is not None and closing.case.status == CaseStatus.CLOSED


def test_the_outbox_sends_what_was_pending(
    upgraded: tuple[Engine, Release, dict[str, list[object]]],
) -> None:
    engine, _, _ = upgraded
    leased = run_transaction(
        engine,
        lambda s: outbox.lease_due("telegram", lease=new_lease("test", 60), limit=10, session=s),
    )
    assert sorted(message.kind for message in leased) == ["case_card", "worker_notice"]
    notice = next(m for m in leased if m.kind == "worker_notice")
    assert (notice.attempts, notice.last_error) == (3, "TimedOut")  # its two tries count on


async def test_campaigns_subscriptions_and_the_broadcast_carry_on(
    upgraded: tuple[Engine, Release, dict[str, list[object]]],
) -> None:
    engine, release, _ = upgraded
    notices = await SqlCampaignNotices(engine).notices_for("employment", date(2027, 2, 20))
    assert [(n.code, n.info) for n in notices] == [(CAMPAIGN, "2月20日西青区招聘会")]
    subscriptions = SqlSubscriptionStore(engine)
    assert await subscriptions.subscribed_topics(TELEGRAM_WORKER) == ["jobs"]
    assert await subscriptions.subscribed_topics(GONE) is None
    with Session(engine) as session:
        pending, _ = broadcasts.pending_deliveries(release.broadcast_id, session=session)
        counts = broadcasts.delivery_counts(release.broadcast_id, session=session)
    assert [delivery.user_key for delivery in pending] == [TELEGRAM_WORKER]
    assert counts == {"pending": 1, "gone": 1}


async def test_conversations_choices_receipts_and_questions_are_read(
    upgraded: tuple[Engine, Release, dict[str, list[object]]],
) -> None:
    engine, release, _ = upgraded
    store = SqlDialogueStore(engine)
    assert (await store.load_state(TELEGRAM_WORKER))["legal_aid"] == release.draft
    assert (await store.load_state(WECHAT_WORKER))["last_question"]["id"] == release.question_id
    assert await store.record_feedback(release.question_id, WECHAT_WORKER, useful=True, text=None)
    channel_store = ChannelStore(engine)
    choices, rest = await channel_store.load_choices(WECHAT_WORKER)
    assert [[choice.label, choice.payload] for choice in choices] == CHOICES and rest == "……"
    assert await channel_store.stored_reply(RECEIPT_KEY) == "回复 1 查看原文"
    with Session(engine) as session:
        users = conversations.list_users(session=session)
        questions = conversations.list_questions(session=session)
    assert len(users) == 4 and all(user.first_seen.tzinfo is UTC for user in users)
    assert {question.text for question in questions} == {"上海的社保怎么交", None}


def test_the_document_the_secret_and_the_new_feature_cache(
    upgraded: tuple[Engine, Release, dict[str, list[object]]],
) -> None:
    engine, _, _ = upgraded
    with Session(engine) as session:
        loaded = load_document(DOCUMENT_KEY, session=session)
        summaries = list_documents(session=session)
    assert loaded is not None
    document, curation = loaded
    assert [clause.id for clause in document.clauses] == ["1", "1.1"]
    assert curation is not None and curation.clauses["1.1"].hotlines == ("12333",)
    assert [(s.key, s.clause_count, s.curated_count) for s in summaries] == [(DOCUMENT_KEY, 2, 1)]
    # The user-key secret survives, so every worker keeps their identity (and their cases).
    assert run_transaction(engine, lambda s: get_or_create_secret("user_key_hmac", session=s)) == (
        SECRET
    )
    run_transaction(engine, lambda s: store_features({"k": {"工资": 1.0}}, session=s))
    with Session(engine) as session:
        assert cached_features(["k"], session=session) == {"k": {"工资": 1.0}}


def test_a_release_timestamp_reads_back_as_the_same_utc_moment(
    upgraded: tuple[Engine, Release, dict[str, list[object]]],
) -> None:
    engine, release, _ = upgraded
    with Session(engine) as session:
        case = get_case_by_number(release.pending_case, session=session)
    assert case is not None
    age = datetime.now(UTC) - case.created_at
    assert timedelta(hours=1) < age < timedelta(hours=3)  # fill() wrote it two hours back
