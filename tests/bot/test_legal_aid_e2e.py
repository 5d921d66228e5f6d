"""Legal aid end to end: the real python-telegram-bot Application polls the fake Bot API server; a
worker files a referral in a private chat, staff act on its card in the union's group, and every
card and notice goes through the outbox in SQLite."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from telegram.ext import ExtBot

from bot.channels.delivery import RetryPolicy
from bot.channels.outbox import OutboxSender
from bot.channels.telegram.application import build_application, on_start, on_stop
from bot.channels.telegram.context import TelegramApplication, TelegramDeps
from bot.channels.telegram.outbox import TelegramOutboxTransport
from bot.events import configure_logging
from bot.storage.case_desk import SqlCaseDesk, StaffChat
from bot.storage.claims import new_lease
from bot.storage.dialogue_store import SqlDialogueStore
from bot.storage.models import ConversationRecord, LegalAidCase, OutboxMessage, UserRecord
from bot.user_keys import UserKeyHasher
from handlers.casework import Casework
from handlers.flows import build_dialogue
from handlers.legal_aid import LegalAidFlow
from knowledge.match import Matcher
from tests.fake_telegram import DEFAULT_TOKEN, FakeTelegramServer, SentCall

WORKER = 2001
STAFF = 3001
STRANGER = 3999
STAFF_CHAT = -1001234567890
CASE_NUMBER = re.compile(r"LA-\d{8}-\d{4}")
FAST_RETRIES = RetryPolicy(first_backoff=0.05, max_backoff=0.2, max_attempts=25)


@dataclass
class LegalAidBot:
    server: FakeTelegramServer
    engine: Engine
    application: TelegramApplication

    def last_to(self, chat_id: int) -> SentCall:
        return self.server.messages_to(chat_id)[-1]

    async def say(self, text: str, *, user: int = WORKER) -> SentCall:
        before = len(self.server.messages_to(user))
        self.server.send_text(user, text)
        return (await self.server.wait_for_messages(user, before + 1))[-1]

    async def press(self, label: str, *, user: int = WORKER, chat: int | None = None) -> None:
        """Press the button labelled `label` on the latest message that carries it."""
        chat_id = chat if chat is not None else user
        for message in reversed(self.server.messages_to(chat_id)):
            for button_label, data in message.buttons:
                if button_label == label and data is not None:
                    self.server.press_button(user, message, data)
                    return
        raise AssertionError(f"no button {label!r} in chat {chat_id}")

    async def press_and_wait(self, label: str, *, user: int = WORKER) -> SentCall:
        before = len(self.server.messages_to(user))
        await self.press(label, user=user)
        return (await self.server.wait_for_messages(user, before + 1))[-1]

    def cases(self) -> list[LegalAidCase]:
        with Session(self.engine) as session:
            return list(session.exec(select(LegalAidCase)))

    def outbox(self) -> list[OutboxMessage]:
        with Session(self.engine) as session:
            return list(session.exec(select(OutboxMessage)))


@asynccontextmanager
async def running_bot(
    server: FakeTelegramServer, engine: Engine, matcher: Matcher, **flow_options: Any
) -> AsyncIterator[TelegramApplication]:
    """The production wiring (as `policybot run` builds it), pointed at the fake server."""
    wakeup = asyncio.Event()
    desk = SqlCaseDesk(
        engine, staff_chat=StaffChat("telegram", str(STAFF_CHAT)), on_queued=wakeup.set
    )
    store = SqlDialogueStore(engine)
    flow = LegalAidFlow(
        desk,
        timeout=timedelta(minutes=30),
        retention_days=365,
        to_simplified=matcher.converter.to_simplified,
        **flow_options,
    )

    async def send_outbox(bot: ExtBot[Any]) -> None:
        sender = OutboxSender(
            engine,
            TelegramOutboxTransport(bot),
            to_traditional=matcher.converter.to_traditional,
            policy=FAST_RETRIES,
            lease=new_lease("outbox-test", 30),
            poll_seconds=0.1,
            wakeup=wakeup,
        )
        await sender.run()

    deps = TelegramDeps(
        build_dialogue(matcher, store, legal_aid=flow),
        UserKeyHasher("test-secret"),
        casework=Casework(desk, store, staff_ids=frozenset({f"telegram:{STAFF}"})),
        staff_chat_id=STAFF_CHAT,
        outbox=send_outbox,
    )
    application = build_application(
        token=DEFAULT_TOKEN,
        base_url=server.base_url,
        base_file_url=server.base_file_url,
        deps=deps,
        connect_timeout=5,
        read_timeout=5,
    )
    async with application:
        await application.start()
        # What run_polling does around start and stop (post_init / post_stop).
        await on_start(application)
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()
            await on_stop(application)


@pytest.fixture
async def bot(plan_matcher: Matcher, engine: Engine) -> AsyncIterator[LegalAidBot]:
    async with FakeTelegramServer() as server:
        server.add_user(STAFF, first_name="王", last_name="律师")
        async with running_bot(server, engine, plan_matcher) as application:
            yield LegalAidBot(server, engine, application)


async def fill_in_until_confirm(bot: LegalAidBot) -> SentCall:
    await bot.say("/legalaid")
    await bot.press_and_wait("同意")
    await bot.press_and_wait("欠薪")
    await bot.press_and_wait("武清区")
    await bot.say("138 1234 5678")
    await bot.server.wait_for_messages(WORKER, len(bot.server.messages_to(WORKER)) + 1)
    await bot.say("天津某某建筑劳务公司")
    return await bot.say("2026年3月到10月在工地干活，包工头拖欠8个月工资共4万元，一直不给")


async def submit_case(bot: LegalAidBot) -> str:
    await fill_in_until_confirm(bot)
    receipt = await bot.press_and_wait("确认提交")
    found = CASE_NUMBER.search(receipt.text or "")
    assert found, receipt.describe()
    return found.group(0)


async def test_the_whole_referral_ends_in_one_card_for_staff(bot: LegalAidBot) -> None:
    intro = await bot.say("我要找律师")
    assert "隐私" in (intro.text or "") and "依据：《实施方案》二（三）4" in (intro.text or "")
    summary = await fill_in_until_confirm(bot)
    assert "武清区" in (summary.text or "") and "13812345678" in (summary.text or "")
    receipt = await bot.press_and_wait("确认提交")
    number = CASE_NUMBER.search(receipt.text or "")
    assert number is not None and "/mycase" in (receipt.text or "")
    (case,) = bot.cases()
    # Committed before the worker heard the number, with the consent on record.
    assert case.number == number.group(0) and case.status == "pending"
    assert case.phone == "13812345678" and case.district == "武清区" and case.category == "wages"
    assert case.consent_version and case.consent_at is not None
    cards = await bot.server.wait_for_messages(STAFF_CHAT, 1)
    card = cards[0]
    assert case.number in (card.text or "") and "13812345678" in (card.text or "")
    assert [label for label, _ in card.buttons] == ["接单", "结案", "备注"]
    await asyncio.sleep(0.3)
    assert len(bot.server.messages_to(STAFF_CHAT)) == 1


async def test_shared_contact_is_accepted_as_the_phone(bot: LegalAidBot) -> None:
    await bot.say("/legalaid")
    await bot.press_and_wait("同意")
    await bot.press_and_wait("工伤")
    ask = await bot.press_and_wait("滨海新区")
    markup = ask.params.get("reply_markup") or {}
    assert markup["keyboard"][0][0]["request_contact"] is True
    before = len(bot.server.messages_to(WORKER))
    bot.server.send_contact(WORKER, "+86 139 0000 1111")
    replies = await bot.server.wait_for_messages(WORKER, before + 2)
    assert "13900001111" in (replies[-2].text or "")
    assert "remove_keyboard" in (replies[-2].params.get("reply_markup") or {})
    assert "单位" in (replies[-1].text or "")


async def test_invalid_phone_and_district_re_ask_with_a_hint(bot: LegalAidBot) -> None:
    await bot.say("法律援助")
    await bot.press_and_wait("同意")
    await bot.press_and_wait("社保")
    wrong_district = await bot.say("火星区")
    assert "16个区" in (wrong_district.text or "")
    assert "武清区" in [label for label, _ in wrong_district.buttons]
    phone_step = await bot.say("静海")
    assert "手机号" in (phone_step.text or "")
    for wrong in ("12345", "23812345678", "我不告诉你"):
        hint = await bot.say(wrong)
        assert "11位手机号" in (hint.text or ""), wrong
    foreign_before = len(bot.server.messages_to(WORKER))
    bot.server.send_contact(WORKER, "+1 415 555 0100")
    (foreign,) = (await bot.server.wait_for_messages(WORKER, foreign_before + 1))[-1:]
    assert "不是大陆手机号" in (foreign.text or "")
    assert bot.cases() == []


async def test_cancel_at_any_step_deletes_the_draft(bot: LegalAidBot) -> None:
    await bot.say("/legalaid")
    await bot.press_and_wait("同意")
    await bot.press_and_wait("欠薪")
    cancelled = await bot.say("取消")
    assert "已取消" in (cancelled.text or "")
    with Session(bot.engine) as session:
        states = [record.state for record in session.exec(select(ConversationRecord))]
    assert all("legal_aid" not in state for state in states)
    answer = await bot.say("武清区")
    assert "已取消" not in (answer.text or "") and bot.cases() == []


async def test_declining_consent_stores_nothing(bot: LegalAidBot) -> None:
    await bot.say("/legalaid")
    declined = await bot.press_and_wait("不同意")
    assert "12351" in (declined.text or "")
    assert bot.cases() == []


async def test_a_restart_mid_flow_continues_where_it_was(
    plan_matcher: Matcher, engine: Engine
) -> None:
    async with FakeTelegramServer() as server:
        async with running_bot(server, engine, plan_matcher) as application:
            first = LegalAidBot(server, engine, application)
            await first.say("/legalaid")
            await first.press_and_wait("同意")
            await first.press_and_wait("欠薪")
        # A new process: nothing in memory survives, the database does.
        async with running_bot(server, engine, plan_matcher) as application:
            second = LegalAidBot(server, engine, application)
            phone_step = await second.say("西青区")
            assert "手机号" in (phone_step.text or "")
            await second.say("13812345678")
            await server.wait_for_messages(WORKER, len(server.messages_to(WORKER)) + 1)
            await second.press_and_wait("跳过")
            await second.say("老板把我开除了还不给补偿，合同没到期")
            receipt = await second.press_and_wait("确认提交")
            assert CASE_NUMBER.search(receipt.text or "")
            (case,) = second.cases()
            assert case.district == "西青区" and case.employer is None
            await server.wait_for_messages(STAFF_CHAT, 1)


async def test_staff_chat_failing_three_times_gets_the_card_exactly_once(
    bot: LegalAidBot,
) -> None:
    bot.server.fail_next("sendMessage", status=500, times=3, chat_id=STAFF_CHAT)
    number = await submit_case(bot)
    await bot.server.wait_for_messages(STAFF_CHAT, 1, timeout=10)
    await asyncio.sleep(0.5)
    cards = bot.server.messages_to(STAFF_CHAT)
    assert len(cards) == 1 and number in (cards[0].text or "")
    failures = [call for call in bot.server.failed if call.params.get("chat_id") == STAFF_CHAT]
    assert len(failures) == 3
    (message,) = [m for m in bot.outbox() if m.kind == "case_card"]
    assert message.status == "sent" and message.attempts == 4


async def test_a_card_queued_during_an_outage_is_sent_after_a_restart(
    plan_matcher: Matcher, engine: Engine
) -> None:
    async with FakeTelegramServer() as server:
        server.fail_next("sendMessage", status=502, times=1000, chat_id=STAFF_CHAT)
        async with running_bot(server, engine, plan_matcher) as application:
            number = await submit_case(LegalAidBot(server, engine, application))
            await server.wait_for_failure("sendMessage")
        assert server.messages_to(STAFF_CHAT) == []
        server.clear_faults()  # the outage ends while the bot is down
        async with running_bot(server, engine, plan_matcher):
            cards = await server.wait_for_messages(STAFF_CHAT, 1, timeout=10)
            await asyncio.sleep(0.5)
        assert len(server.messages_to(STAFF_CHAT)) == 1 and number in (cards[0].text or "")


async def test_someone_not_on_the_staff_list_cannot_claim(bot: LegalAidBot) -> None:
    await submit_case(bot)
    (card,) = await bot.server.wait_for_messages(STAFF_CHAT, 1)
    claim = next(data for label, data in card.buttons if label == "接单")
    assert claim is not None
    update = bot.server.press_button(STRANGER, card, claim)
    query_id = update["callback_query"]["id"]
    await wait_until(lambda: query_id in bot.server.answered_callback_queries)
    answer = bot.server.answered_callback_queries[query_id]
    assert "只有工会法律援助工作人员" in answer["text"] and answer["show_alert"] is True
    (case,) = bot.cases()
    assert case.status == "pending" and case.claimed_by is None
    assert [m.kind for m in bot.outbox()] == ["case_card"]


async def test_claim_and_close_notify_the_worker_and_update_the_card(bot: LegalAidBot) -> None:
    number = await submit_case(bot)
    (card,) = await bot.server.wait_for_messages(STAFF_CHAT, 1)
    worker_messages = len(bot.server.messages_to(WORKER))
    await bot.press("接单", user=STAFF, chat=STAFF_CHAT)
    notices = await bot.server.wait_for_messages(WORKER, worker_messages + 1)
    assert number in (notices[-1].text or "") and "接手" in (notices[-1].text or "")
    await wait_until(lambda: "已接单" in card_text(bot, card))
    assert "王 律师" in card_text(bot, card)
    # 接单 is gone from the card; a second press of the old button changes nothing.
    await bot.press("结案", user=STAFF, chat=STAFF_CHAT)
    prompt = (await bot.server.wait_for_messages(STAFF_CHAT, 2))[-1]
    assert number in (prompt.text or "") and prompt.params["reply_markup"]["force_reply"]
    bot.server.send_text(
        STAFF, "已帮助申请劳动仲裁，老板已结清工资", chat_id=STAFF_CHAT, chat_type="supergroup",
        reply_to_bot=True,
    )  # fmt: skip
    notices = await bot.server.wait_for_messages(WORKER, worker_messages + 2)
    assert "已办结" in (notices[-1].text or "")
    await wait_until(lambda: "已结案" in card_text(bot, card))
    (case,) = bot.cases()
    assert case.status == "closed" and case.outcome == "已帮助申请劳动仲裁，老板已结清工资"
    status = await bot.say("/mycase")
    assert number in (status.text or "") and "已办结" in (status.text or "")
    await asyncio.sleep(0.3)
    kinds = sorted(m.kind for m in bot.outbox() if m.kind == "worker_notice")
    assert kinds == ["worker_notice", "worker_notice"]
    assert all(m.status == "sent" for m in bot.outbox())


async def test_a_note_is_added_to_the_card(bot: LegalAidBot) -> None:
    await submit_case(bot)
    (card,) = await bot.server.wait_for_messages(STAFF_CHAT, 1)
    await bot.press("备注", user=STAFF, chat=STAFF_CHAT)
    await bot.server.wait_for_messages(STAFF_CHAT, 2)
    bot.server.send_text(
        STAFF, "已电话联系，周一来面谈", chat_id=STAFF_CHAT, chat_type="supergroup",
        reply_to_bot=True,
    )  # fmt: skip
    await wait_until(lambda: "周一来面谈" in card_text(bot, card))
    (case,) = bot.cases()
    assert case.status == "pending" and case.notes[0]["text"] == "已电话联系，周一来面谈"


async def test_mycase_lists_only_ones_own_cases(bot: LegalAidBot) -> None:
    empty = await bot.say("/mycase")
    assert "还没有" in (empty.text or "")
    number = await submit_case(bot)
    mine = await bot.say("/mycase")
    assert number in (mine.text or "") and "等待工作人员接手" in (mine.text or "")
    other = await bot.say("/mycase", user=WORKER + 1)
    assert number not in (other.text or "")


async def test_forget_anonymises_cases_and_deletes_personal_data(bot: LegalAidBot) -> None:
    number = await submit_case(bot)
    (card,) = await bot.server.wait_for_messages(STAFF_CHAT, 1)
    prompt = await bot.say("/forget")
    assert "确定删除" in (prompt.text or "")
    done = await bot.press_and_wait("确认删除")
    assert "已删除" in (done.text or "")
    (case,) = bot.cases()
    assert case.number == number and case.district == "武清区"
    assert case.phone is None and case.description is None and case.employer is None
    assert case.user_key is None and case.address is None and case.anonymised_at is not None
    with Session(bot.engine) as session:
        assert session.get(UserRecord, bot_user_key()) is None
        conversation = session.get(ConversationRecord, bot_user_key())
        assert conversation is None or conversation.state == {}
    # The card in the staff chat loses the phone number and the description too.
    await wait_until(lambda: "13812345678" not in card_text(bot, card))
    assert "本人已删除" in card_text(bot, card)
    after = await bot.say("/mycase")
    assert number not in (after.text or "")


async def test_forget_needs_the_confirmation(bot: LegalAidBot) -> None:
    await submit_case(bot)
    await bot.say("/forget")
    kept = await bot.press_and_wait("不删了")
    assert "没有删除" in (kept.text or "")
    (case,) = bot.cases()
    assert case.phone == "13812345678"


def bot_user_key() -> str:
    return UserKeyHasher("test-secret").key_for("telegram", WORKER)


def card_text(bot: LegalAidBot, card: SentCall) -> str:
    result = card.result if isinstance(card.result, dict) else {}
    stored = bot.server.message(STAFF_CHAT, int(result["message_id"]))
    return str((stored or {}).get("text", ""))


async def wait_until(condition: Any, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def test_phone_numbers_and_descriptions_never_reach_the_logs(
    bot: LegalAidBot, caplog: pytest.LogCaptureFixture
) -> None:
    # The production logging set-up at its most talkative level, captured by caplog.
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    configure_logging("DEBUG", as_json=True)
    root.addHandler(caplog.handler)
    caplog.handler.setLevel(logging.DEBUG)
    try:
        await exercise_every_case_step(bot)
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    logged = "\n".join(
        record.getMessage() + repr(getattr(record, "fields", {})) for record in caplog.records
    )
    assert "legal_aid_case_created" in logged and "legal_aid_case_changed" in logged
    for secret in ("13812345678", "1381234", "包工头拖欠", "某某建筑", str(WORKER)):
        assert secret not in logged, secret


async def exercise_every_case_step(bot: LegalAidBot) -> None:
    await submit_case(bot)
    await bot.server.wait_for_messages(STAFF_CHAT, 1)
    await bot.press("接单", user=STAFF, chat=STAFF_CHAT)
    await bot.server.wait_for_messages(WORKER, len(bot.server.messages_to(WORKER)) + 1)


async def test_traditional_in_traditional_out_through_the_whole_flow(bot: LegalAidBot) -> None:
    intro = await bot.say("我要申請法律援助")
    assert "隱私" in (intro.text or "")
    await bot.press_and_wait("同意")
    district_step = await bot.say("工傷")
    assert "區" in (district_step.text or "")
    await bot.say("濱海")
    await bot.say("13812345678")
    await bot.server.wait_for_messages(WORKER, len(bot.server.messages_to(WORKER)) + 1)
    await bot.say("跳過")
    summary = await bot.say("在工地摔傷了腿，老闆不給報工傷")
    assert "濱海新區" in (summary.text or "") and "確認提交" in [
        label for label, _ in summary.buttons
    ]
    receipt = await bot.press_and_wait("確認提交")
    assert "已提交" in (receipt.text or "") and "電話" in (receipt.text or "")
    (case,) = bot.cases()
    assert case.category == "injury" and case.traditional
    await bot.server.wait_for_messages(STAFF_CHAT, 1)
    before = len(bot.server.messages_to(WORKER))
    await bot.press("接单", user=STAFF, chat=STAFF_CHAT)
    notice = (await bot.server.wait_for_messages(WORKER, before + 1))[-1]
    assert "已有工會法律援助工作人員接手" in (notice.text or "")


async def test_the_handoff_button_and_the_topic_lead_into_the_referral(bot: LegalAidBot) -> None:
    answer = await bot.say("老板欠了我三个月工资一直不给")
    assert "找法律援助" in [label for label, _ in answer.buttons]
    intro = await bot.press_and_wait("找法律援助")
    assert "隐私" in (intro.text or "") and [name for name, _ in intro.buttons] == [
        "同意",
        "不同意",
    ]
    await bot.say("取消")
    await bot.say("/topics")
    intro = await bot.press_and_wait("法律援助")
    assert "隐私" in (intro.text or "")


async def test_old_flow_buttons_do_nothing_after_the_flow_ended(bot: LegalAidBot) -> None:
    await bot.say("/legalaid")
    await bot.press_and_wait("不同意")
    stale = await bot.press_and_wait("同意")
    assert "过期" in (stale.text or "") and bot.cases() == []


async def test_a_429_from_the_staff_chat_delays_the_card_but_sends_it_once(
    bot: LegalAidBot,
) -> None:
    bot.server.fail_next("sendMessage", status=429, retry_after=1, times=2, chat_id=STAFF_CHAT)
    number = await submit_case(bot)
    cards = await bot.server.wait_for_messages(STAFF_CHAT, 1, timeout=15)
    await asyncio.sleep(0.3)
    assert len(bot.server.messages_to(STAFF_CHAT)) == 1 and number in (cards[0].text or "")
    assert len([c for c in bot.server.failed if c.params.get("chat_id") == STAFF_CHAT]) == 2
