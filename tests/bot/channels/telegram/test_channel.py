"""The Telegram channel end to end: the real python-telegram-bot Application polls the fake Bot API
server over HTTP, answers through the real dialogue and the bundled plan, and stores in SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from bot.channels.telegram.application import (
    build_application,
    on_start,
    on_stop,
    register_commands,
    webhook_options,
)
from bot.channels.telegram.context import TelegramApplication, TelegramDeps
from bot.channels.telegram.rendering import render
from bot.storage.dialogue_store import SqlDialogueStore
from bot.storage.engine import create_engine_for, init_db
from bot.storage.repositories.conversations import list_questions, list_users
from bot.user_keys import UserKeyHasher
from handlers.flows import build_dialogue
from handlers.messages import Choice, Reply
from knowledge.match import Matcher
from tests.fake_telegram import DEFAULT_TOKEN, FakeTelegramServer, SentCall

WORKER = 1001
OTHER_WORKER = 1002
GROUP = -5001


@dataclass
class Bot:
    server: FakeTelegramServer
    application: TelegramApplication
    engine: Engine
    user_keys: UserKeyHasher


def application_for(server: FakeTelegramServer, deps: TelegramDeps) -> TelegramApplication:
    """The production application, pointed at the fake server."""
    return build_application(
        token=DEFAULT_TOKEN,
        base_url=server.base_url,
        base_file_url=server.base_file_url,
        deps=deps,
        connect_timeout=5,
        read_timeout=5,
    )


@pytest.fixture
async def bot(plan_matcher: Matcher, tmp_path: Path) -> AsyncIterator[Bot]:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'bot.db'}")
    init_db(engine)
    user_keys = UserKeyHasher("test-secret")
    async with FakeTelegramServer() as server:
        deps = TelegramDeps(build_dialogue(plan_matcher, SqlDialogueStore(engine)), user_keys)
        application = application_for(server, deps)
        async with application:
            await register_commands(application)
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0, timeout=1)
            yield Bot(server, application, engine, user_keys)
            await application.updater.stop()
            await application.stop()


def labels(message: SentCall) -> list[str]:
    return [label for label, _ in message.buttons]


def payload_of(message: SentCall, label: str) -> str:
    return next(data for text, data in message.buttons if text == label and data)


async def test_commands_are_registered(bot: Bot) -> None:
    commands = [command["command"] for command in bot.server.my_commands()]
    assert commands == [
        "start", "topics", "legalaid", "mycase", "subscribe", "unsubscribe", "help", "forget",
    ]  # fmt: skip


async def test_start_with_a_poster_payload_welcomes_and_records_the_source(bot: Bot) -> None:
    bot.server.send_command(WORKER, "/start", payload="chunfeng2027_xiqing")
    (welcome,) = await bot.server.wait_for_messages(WORKER, 1)
    assert "政策小助手" in (welcome.text or "") and "孩子上学" in labels(welcome)
    await asyncio.sleep(0.05)
    with Session(bot.engine) as session:
        (user,) = list_users(session=session)
    assert user.user_key == bot.user_keys.key_for("telegram", WORKER)
    assert str(WORKER) not in user.user_key and user.source == "chunfeng2027_xiqing"


async def test_a_question_gets_a_cited_answer_with_buttons(bot: Bot) -> None:
    bot.server.send_text(WORKER, "在天津交的社保回老家能转过去吗")
    (answer,) = await bot.server.wait_for_messages(WORKER, 1)
    assert "依据：《实施方案》二（三）2" in (answer.text or "")
    assert {"查看原文", "👍 有用", "👎 没用"} <= set(labels(answer))


async def test_a_law_question_gets_its_article_cited(
    library_matcher: Matcher, tmp_path: Path
) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'library.db'}")
    init_db(engine)
    async with FakeTelegramServer() as server:
        dialogue = build_dialogue(library_matcher, SqlDialogueStore(engine))
        application = application_for(server, TelegramDeps(dialogue, UserKeyHasher("t")))
        async with application:
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0, timeout=1)
            server.send_text(WORKER, "年假有几天")
            (answer,) = await server.wait_for_messages(WORKER, 1)
            await application.updater.stop()
            await application.stop()
    assert "依据：《带薪年休假条例》第三条" in (answer.text or "")
    assert "查看原文" in labels(answer)


async def test_view_full_text_shows_the_clause(bot: Bot) -> None:
    bot.server.send_text(WORKER, "孩子能上公办学校吗")
    (answer,) = await bot.server.wait_for_messages(WORKER, 1)
    bot.server.press_button(WORKER, answer, payload_of(answer, "查看原文"))
    full = (await bot.server.wait_for_messages(WORKER, 2))[1]
    assert "统筹安排符合条件的农民工随迁子女在公办学校就读" in (full.text or "")
    assert bot.server.calls("answerCallbackQuery")


async def test_browsing_topics_by_buttons(bot: Bot) -> None:
    bot.server.send_command(WORKER, "/topics")
    (menu,) = await bot.server.wait_for_messages(WORKER, 1)
    bot.server.press_button(WORKER, menu, payload_of(menu, "住房"))
    clauses = (await bot.server.wait_for_messages(WORKER, 2))[1]
    first_clause = next(data for _, data in clauses.buttons if data and data.startswith("ans:"))
    bot.server.press_button(WORKER, clauses, first_clause)
    explanation = (await bot.server.wait_for_messages(WORKER, 3))[2]
    assert "依据：《实施方案》二（四）3" in (explanation.text or "")


async def test_feedback_is_stored_with_the_question(bot: Bot) -> None:
    bot.server.send_text(WORKER, "创业担保贷款怎么申请")
    (answer,) = await bot.server.wait_for_messages(WORKER, 1)
    bot.server.press_button(WORKER, answer, payload_of(answer, "👎 没用"))
    thanks = (await bot.server.wait_for_messages(WORKER, 2))[1]
    assert "谢谢" in (thanks.text or "")
    with Session(bot.engine) as session:
        (question,) = list_questions(session=session)
    assert question.clause_id == "2.1.5" and question.useful is False
    assert question.text == "创业担保贷款怎么申请"


async def test_useful_feedback_keeps_no_text(bot: Bot) -> None:
    bot.server.send_text(WORKER, "创业担保贷款怎么申请")
    (answer,) = await bot.server.wait_for_messages(WORKER, 1)
    bot.server.press_button(WORKER, answer, payload_of(answer, "👍 有用"))
    await bot.server.wait_for_messages(WORKER, 2)
    with Session(bot.engine) as session:
        (question,) = list_questions(session=session)
    assert question.useful is True and question.text is None


async def test_a_sticker_and_a_photo_get_a_hint(bot: Bot) -> None:
    bot.server.send_sticker(WORKER)
    bot.server.send_photo(WORKER)
    hints = await bot.server.wait_for_messages(WORKER, 2)
    assert all("打字" in (hint.text or "") for hint in hints)


async def test_group_messages_need_a_mention_or_a_reply(bot: Bot) -> None:
    bot.server.send_text(WORKER, "工伤保险怎么交", chat_id=GROUP, chat_type="supergroup")
    bot.server.send_text(
        WORKER, "@policybot_test_bot 工伤保险怎么交", chat_id=GROUP, chat_type="supergroup"
    )
    (answer,) = await bot.server.wait_for_messages(GROUP, 1)
    assert "二（三）2" in (answer.text or "")
    bot.server.send_text(
        WORKER, "那回老家还能领吗", chat_id=GROUP, chat_type="supergroup", reply_to_bot=True
    )
    await bot.server.wait_for_messages(GROUP, 2)
    await asyncio.sleep(0.3)
    assert len(bot.server.messages_to(GROUP)) == 2  # the unaddressed message got no reply


async def test_an_edited_message_is_answered_again(bot: Bot) -> None:
    update = bot.server.send_text(WORKER, "公租房")
    await bot.server.wait_for_messages(WORKER, 1)
    bot.server.edit_text(WORKER, update["message"]["message_id"], "孩子上学")
    edited_answer = (await bot.server.wait_for_messages(WORKER, 2))[1]
    assert "二（四）4" in (edited_answer.text or "")


async def test_traditional_in_traditional_out(bot: Bot) -> None:
    bot.server.send_text(WORKER, "請問隨遷子女怎麼上公辦學校")
    (answer,) = await bot.server.wait_for_messages(WORKER, 1)
    assert "依據" in (answer.text or "") and "學" in (answer.text or "")


async def test_html_in_a_question_is_escaped(bot: Bot) -> None:
    bot.server.send_text(WORKER, "<b>工伤</b> & 保险 <script>")
    (answer,) = await bot.server.wait_for_messages(WORKER, 1)
    assert answer.ok


async def test_own_dispute_gets_the_legal_aid_button(bot: Bot) -> None:
    bot.server.send_text(WORKER, "老板欠了我三个月工资不给")
    (answer,) = await bot.server.wait_for_messages(WORKER, 1)
    assert labels(answer)[0] == "找法律援助" and "12351" in (answer.text or "")
    bot.server.press_button(WORKER, answer, "legal")
    info = (await bot.server.wait_for_messages(WORKER, 2))[1]
    assert "知工" in (info.text or "")


@pytest.mark.parametrize(
    ("status", "times", "retry_after"), [(429, 1, 1), (500, 1, None), (502, 3, None)]
)
async def test_a_failing_send_is_retried_and_arrives_once(
    bot: Bot, status: int, times: int, retry_after: int | None
) -> None:
    bot.server.fail_next(
        "sendMessage", status=status, times=times, retry_after=retry_after, chat_id=WORKER
    )
    bot.server.send_text(WORKER, "培训补贴")
    await bot.server.wait_for_messages(WORKER, 1, timeout=15)
    await asyncio.sleep(0.3)
    assert len(bot.server.messages_to(WORKER)) == 1
    assert len(bot.server.failed) == times


async def test_a_blocked_user_does_not_stop_the_bot(bot: Bot) -> None:
    bot.server.block_user(WORKER)
    bot.server.send_text(WORKER, "培训补贴")
    await bot.server.wait_for_failure("sendMessage")
    bot.server.send_text(OTHER_WORKER, "培训补贴")
    (answer,) = await bot.server.wait_for_messages(OTHER_WORKER, 1)
    assert "二（二）" in (answer.text or "")


def test_long_replies_are_split_and_escaped() -> None:
    reply = Reply("第一段 <&>\n" + "很长的一行\n" * 1500, (Choice("查看原文", "full:d:1"),))
    pieces = render(reply)
    assert len(pieces) > 1
    assert all(
        len(text.replace("&lt;", "<").replace("&amp;", "&").replace("&gt;", ">")) <= 4096
        for text, _ in pieces
    )
    assert pieces[0][0].startswith("第一段 &lt;&amp;&gt;")
    assert pieces[-1][1] is not None and all(markup is None for _, markup in pieces[:-1])


async def test_housekeeping_runs_once_the_bot_starts(plan_matcher: Matcher, tmp_path: Path) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'bot.db'}")
    init_db(engine)
    ran = asyncio.Event()

    async def housekeeping() -> None:
        ran.set()

    deps = TelegramDeps(
        build_dialogue(plan_matcher, SqlDialogueStore(engine)), UserKeyHasher("k"), housekeeping
    )
    async with FakeTelegramServer() as server:
        application = application_for(server, deps)
        async with application:
            await on_start(application)
            await asyncio.wait_for(ran.wait(), timeout=5)
            await on_stop(application)
            assert "housekeeping" not in application.bot_data
        assert server.my_commands()[0]["command"] == "start"


async def test_webhook_refuses_requests_without_the_secret(
    plan_matcher: Matcher, tmp_path: Path, unused_tcp_port: int
) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'bot.db'}")
    init_db(engine)
    url = f"http://127.0.0.1:{unused_tcp_port}/telegram/hook"
    async with FakeTelegramServer() as server:
        dialogue = build_dialogue(plan_matcher, SqlDialogueStore(engine))
        deps = TelegramDeps(dialogue, UserKeyHasher("k"))
        application = application_for(server, deps)
        async with application:
            await application.start()
            assert application.updater is not None
            options = webhook_options(url, "s3cret-token", listen="127.0.0.1", port=unused_tcp_port)
            await application.updater.start_webhook(**options)
            update = server.send_text(WORKER, "培训补贴")
            async with aiohttp.ClientSession() as client:
                refused = await client.post(url, json=update)
                wrong = await client.post(
                    url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "guess"}
                )
                accepted = await client.post(
                    url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
                )
            assert (refused.status, wrong.status, accepted.status) == (403, 403, 200)
            (answer,) = await server.wait_for_messages(WORKER, 1)
            assert "二（二）" in (answer.text or "")
            assert server.webhook_url == url
            await application.updater.stop()
            await application.stop()
