"""WeChat end to end over HTTP: a fake WeChat platform signs, encrypts and decrypts like WeChat's
servers and calls the real /wechat route, which answers through the real dialogue and the bundled
plan, storing in SQLite."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session, select

from bot.storage.case_desk import WORKER_NOTICE
from bot.storage.models import LegalAidCase, UserRecord
from bot.storage.repositories.conversations import list_questions
from bot.storage.repositories.outbox import enqueue
from handlers import texts
from knowledge.lexicon import load_lexicon
from knowledge.match import Matcher
from knowledge.parser import parse_file
from tests.bot.server_harness import Server, engine_in, running_server, settings_for
from tests.fake_wechat import (
    AES_KEY,
    APPID,
    APPSECRET,
    TOKEN,
    FakeCustomerServiceApi,
    WechatPlatform,
)

WORKER = "oWorker_0001"
OTHER = "oWorker_0002"
ENTITY_BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{"&lol%s;" % ("" if i == 1 else i - 1) * 10}">'.encode()
        for i in range(1, 10)
    )
    + b"]><xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName>"
    b"<MsgType>text</MsgType><Content>&lol9;</Content><MsgId>1</MsgId></xml>"
)


def wechat_section(mode: str, **extra: object) -> dict[str, object]:
    section: dict[str, object] = {"token": TOKEN, "appid": APPID, "mode": mode, **extra}
    if mode != "plain":
        section["encoding_aes_key"] = AES_KEY
    return section


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return engine_in(tmp_path)


@pytest.fixture(params=["plain", "compat", "safe"])
async def server(
    request: pytest.FixtureRequest, tmp_path: Path, engine: Engine, plan_matcher: Matcher
) -> AsyncIterator[tuple[Server, WechatPlatform]]:
    settings = settings_for(tmp_path, wechat=wechat_section(request.param))
    async with running_server(settings, engine, plan_matcher) as running:
        yield running, WechatPlatform(running.http, mode=request.param)


@pytest.fixture
async def plain(
    tmp_path: Path, engine: Engine, plan_matcher: Matcher
) -> AsyncIterator[tuple[Server, WechatPlatform]]:
    settings = settings_for(tmp_path, wechat=wechat_section("plain"))
    async with running_server(settings, engine, plan_matcher) as running:
        yield running, WechatPlatform(running.http)


@pytest.fixture
async def library(
    tmp_path: Path, engine: Engine, library_matcher: Matcher
) -> AsyncIterator[tuple[Server, WechatPlatform]]:
    settings = settings_for(tmp_path, wechat=wechat_section("safe"))
    async with running_server(settings, engine, library_matcher) as running:
        yield running, WechatPlatform(running.http, mode="safe")


def numbered(content: str) -> dict[str, str]:
    """The numbered choice lines of a reply: label → number."""
    return {label: number for number, label in re.findall(r"^回复 (\d+) (.+)$", content, re.M)}


def question_count(engine: Engine) -> int:
    with Session(engine) as session:
        return len(list_questions(session=session))


async def test_verification_echoes_with_a_good_signature(
    server: tuple[Server, WechatPlatform],
) -> None:
    _, wechat = server
    response = await wechat.verify("echo-5520")
    assert response.status_code == 200 and response.text == "echo-5520"


async def test_verification_with_a_bad_signature_is_refused(
    server: tuple[Server, WechatPlatform],
) -> None:
    _, wechat = server
    response = await wechat.verify("echo-5520", bad=True)
    assert response.status_code == 403 and "echo" not in response.text


async def test_a_question_gets_the_cited_answer_with_numbered_choices(
    server: tuple[Server, WechatPlatform],
) -> None:
    _, wechat = server
    reply = await wechat.deliver(wechat.text(WORKER, "在天津交的社保回老家能转过去吗"))
    assert "依据：《实施方案》二（三）2" in reply.content
    assert reply.fields is not None and reply.fields["ToUserName"] == WORKER
    assert {"查看原文", "👍 有用", "👎 没用"} <= set(numbered(reply.content))
    assert len(reply.content.encode()) <= 2048


async def test_a_law_answer_carries_its_article_on_every_page(
    library: tuple[Server, WechatPlatform],
) -> None:
    _, wechat = library
    reply = await wechat.deliver(wechat.text(WORKER, "没签合同能要双倍工资吗"))
    assert "依据：《劳动合同法》第八十二条" in reply.content
    assert len(reply.content.encode()) <= 2048
    full = await wechat.deliver(wechat.text(WORKER, numbered(reply.content)["查看原文"]))
    pages = [full.content]
    while (more := re.search(r"回复 (\d+) 看后面", pages[-1])) is not None:
        pages.append((await wechat.deliver(wechat.text(WORKER, more.group(1)))).content)
    assert all("第八十二条" in page and len(page.encode()) <= 2048 for page in pages)


async def test_a_post_with_a_bad_signature_is_refused(
    server: tuple[Server, WechatPlatform],
) -> None:
    _, wechat = server
    response = await wechat.post_raw(b"<xml><MsgType>text</MsgType></xml>", bad_signature=True)
    assert response.status_code == 403


async def test_a_number_picks_the_choice_it_was_shown_with(
    server: tuple[Server, WechatPlatform],
) -> None:
    _, wechat = server
    answer = await wechat.deliver(wechat.text(WORKER, "孩子能上公办学校吗"))
    number = numbered(answer.content)["查看原文"]
    full = await wechat.deliver(wechat.text(WORKER, number))
    assert "统筹安排符合条件的农民工随迁子女在公办学校就读" in full.content


async def test_a_full_width_number_picks_a_choice_too(
    plain: tuple[Server, WechatPlatform],
) -> None:
    _, wechat = plain
    menu = await wechat.deliver(wechat.text(WORKER, "菜单"))
    number = numbered(menu.content)["住房"]
    full_width = "".join(chr(ord(digit) + 0xFEE0) for digit in number)
    housing = await wechat.deliver(wechat.text(WORKER, full_width))
    assert "“住房”方面" in housing.content


async def test_numbers_are_per_person(plain: tuple[Server, WechatPlatform]) -> None:
    _, wechat = plain
    await wechat.deliver(wechat.text(WORKER, "菜单"))
    other = await wechat.deliver(wechat.text(OTHER, "1"))
    assert "“找工作·创业”方面" not in other.content


async def test_numbered_choices_survive_a_restart(
    tmp_path: Path, engine: Engine, plan_matcher: Matcher
) -> None:
    settings = settings_for(tmp_path, wechat=wechat_section("plain"))
    async with running_server(settings, engine, plan_matcher) as first:
        wechat = WechatPlatform(first.http)
        menu = await wechat.deliver(wechat.text(WORKER, "菜单"))
    number = numbered(menu.content)["孩子上学"]
    async with running_server(settings, engine, plan_matcher) as second:
        wechat = WechatPlatform(second.http)
        # A new message id: the fake's counter starts again, and WeChat never reuses an id.
        topic = await wechat.deliver(wechat.text(WORKER, number, msg_id=555))
    assert "“孩子上学”方面" in topic.content


async def test_a_retried_message_is_processed_once_and_gets_the_same_reply(
    server: tuple[Server, WechatPlatform],
) -> None:
    running, wechat = server
    message = wechat.text(WORKER, "创业担保贷款怎么申请")
    first = await wechat.deliver(message)
    retried = await wechat.deliver(message)
    assert "依据：" in first.content and retried.content == first.content
    assert question_count(running.engine) == 1


async def test_a_message_is_one_transaction_with_its_receipt_and_reply(
    tmp_path: Path, engine: Engine, plan_matcher: Matcher
) -> None:
    """Issue 16: the receipt, the turn and the reply kept for retries commit together; WeChat
    retrying it at another process finds the stored reply without running it again."""
    settings = settings_for(tmp_path, wechat=wechat_section("plain"))
    async with running_server(settings, engine, plan_matcher) as running:
        wechat = WechatPlatform(running.http)
        await wechat.deliver(wechat.text(WORKER, "你好"))  # a known person now
        begins: list[object] = []

        def count(connection: object) -> None:
            begins.append(connection)

        event.listen(engine, "begin", count)
        try:
            message = wechat.text(WORKER, "工资被拖欠了怎么办")
            reply = await wechat.deliver(message)
        finally:
            event.remove(engine, "begin", count)
    assert "依据：" in reply.content
    assert len(begins) == 1
    async with running_server(settings, engine, plan_matcher) as other:
        again = await WechatPlatform(other.http).deliver(message)
    assert again.content == reply.content
    assert question_count(engine) == 1


async def test_subscribe_welcomes_with_the_topics(server: tuple[Server, WechatPlatform]) -> None:
    _, wechat = server
    reply = await wechat.deliver(wechat.event(WORKER, "subscribe"))
    assert "政策小助手" in reply.content
    assert {"孩子上学", "住房", "法律援助"} <= set(numbered(reply.content))


async def test_a_repeated_event_is_answered_once(plain: tuple[Server, WechatPlatform]) -> None:
    _, wechat = plain
    event = wechat.event(WORKER, "subscribe", create_time=1_700_000_000)
    first = await wechat.deliver(event)
    again = await wechat.deliver(event)
    assert again.content == first.content


async def test_unsubscribe_is_recorded_without_a_reply(
    plain: tuple[Server, WechatPlatform],
) -> None:
    _, wechat = plain
    await wechat.deliver(wechat.text(WORKER, "菜单"))
    reply = await wechat.deliver(wechat.event(WORKER, "unsubscribe"))
    assert reply.status == 200 and reply.body == "success"
    # The numbers shown before are forgotten: "1" is now just text.
    after = await wechat.deliver(wechat.text(WORKER, "1"))
    assert "“找工作·创业”方面" not in after.content


async def test_a_menu_click_opens_its_topic(server: tuple[Server, WechatPlatform]) -> None:
    _, wechat = server
    reply = await wechat.deliver(wechat.event(WORKER, "CLICK", "topic:housing"))
    assert "“住房”方面" in reply.content and numbered(reply.content)


async def test_the_legal_aid_menu_key_starts_legal_aid(
    plain: tuple[Server, WechatPlatform],
) -> None:
    _, wechat = plain
    reply = await wechat.deliver(wechat.event(WORKER, "CLICK", "/legalaid"))
    assert "法律援助" in reply.content


async def test_a_voice_message_with_recognition_is_answered_as_text(
    server: tuple[Server, WechatPlatform],
) -> None:
    _, wechat = server
    reply = await wechat.deliver(wechat.voice(WORKER, "孩子能上公办学校吗"))
    assert "依据：《实施方案》二（四）4" in reply.content


@pytest.mark.parametrize("kind", ["voice", "image", "location", "link"])
async def test_messages_without_text_get_a_hint(
    plain: tuple[Server, WechatPlatform], kind: str
) -> None:
    _, wechat = plain
    fields = wechat.voice(WORKER, None) if kind == "voice" else wechat.media(WORKER, kind)
    reply = await wechat.deliver(fields)
    assert reply.content.startswith(texts.UNSUPPORTED_HINT)


async def test_an_entity_bomb_is_refused_without_touching_the_dialogue(
    plain: tuple[Server, WechatPlatform],
) -> None:
    running, wechat = plain
    response = await wechat.post_raw(ENTITY_BOMB)
    assert response.status_code == 400 and "lol" not in response.text
    assert question_count(running.engine) == 0


async def test_an_oversized_body_is_refused(plain: tuple[Server, WechatPlatform]) -> None:
    _, wechat = plain
    response = await wechat.post_raw(b"<xml>" + b"a" * 100_000 + b"</xml>")
    assert response.status_code == 413


async def test_safe_mode_refuses_a_bad_message_signature(
    tmp_path: Path, engine: Engine, plan_matcher: Matcher
) -> None:
    settings = settings_for(tmp_path, wechat=wechat_section("safe"))
    async with running_server(settings, engine, plan_matcher) as running:
        wechat = WechatPlatform(running.http, mode="safe")
        reply = await wechat.deliver(wechat.text(WORKER, "你好"), bad_msg_signature=True)
    assert reply.status == 403


async def test_safe_mode_refuses_a_message_for_another_appid(
    tmp_path: Path, engine: Engine, plan_matcher: Matcher
) -> None:
    settings = settings_for(tmp_path, wechat=wechat_section("safe"))
    async with running_server(settings, engine, plan_matcher) as running:
        wechat = WechatPlatform(running.http, mode="safe")
        reply = await wechat.deliver(wechat.text(WORKER, "你好"), appid="wxSomeoneElse00000")
    assert reply.status == 400


async def test_safe_mode_refuses_a_plain_message(
    tmp_path: Path, engine: Engine, plan_matcher: Matcher
) -> None:
    settings = settings_for(tmp_path, wechat=wechat_section("safe"))
    async with running_server(settings, engine, plan_matcher) as running:
        wechat = WechatPlatform(running.http, mode="plain")
        reply = await wechat.deliver(wechat.text(WORKER, "你好"))
    assert reply.status == 400


async def test_compat_mode_also_accepts_a_plain_message(
    tmp_path: Path, engine: Engine, plan_matcher: Matcher
) -> None:
    settings = settings_for(tmp_path, wechat=wechat_section("compat"))
    async with running_server(settings, engine, plan_matcher) as running:
        wechat = WechatPlatform(running.http, mode="plain")
        reply = await wechat.deliver(wechat.text(WORKER, "孩子能上公办学校吗"))
    assert "依据：" in reply.content


async def test_an_answer_past_the_budget_is_sent_as_a_customer_service_message(
    tmp_path: Path, engine: Engine, plan_matcher: Matcher
) -> None:
    async with FakeCustomerServiceApi() as api:
        section = wechat_section(
            "safe", appsecret=APPSECRET, api_base_url=api.base_url, reply_budget_seconds=0
        )
        settings = settings_for(tmp_path, wechat=section)
        async with running_server(settings, engine, plan_matcher) as running:
            wechat = WechatPlatform(running.http, mode="safe")
            message = wechat.text(WORKER, "孩子能上公办学校吗")
            reply = await wechat.deliver(message)
            assert reply.status == 200 and reply.body == "success"
            (sent,) = await api.wait_for(1)
            assert sent.openid == WORKER and "依据：《实施方案》二（四）4" in sent.content
            # WeChat retrying that message now gets the answer, without a second run.
            retried = await wechat.deliver(message)
            assert retried.content == sent.content
            assert question_count(running.engine) == 1


async def test_an_expired_access_token_is_renewed(
    tmp_path: Path, engine: Engine, plan_matcher: Matcher
) -> None:
    async with FakeCustomerServiceApi() as api:
        section = wechat_section(
            "plain", appsecret=APPSECRET, api_base_url=api.base_url, reply_budget_seconds=0
        )
        settings = settings_for(tmp_path, wechat=section)
        async with running_server(settings, engine, plan_matcher) as running:
            wechat = WechatPlatform(running.http)
            await wechat.deliver(wechat.text(WORKER, "菜单"))
            await api.wait_for(1)
            api.expire_token()
            await wechat.deliver(wechat.text(WORKER, "帮助"))
            sent = await api.wait_for(2)
    assert api.token_requests == 2 and "怎么用" in sent[1].content


async def test_legal_aid_referral_driven_purely_by_numbers(
    plain: tuple[Server, WechatPlatform],
) -> None:
    """法律援助 → 同意 → category → district (16 choices) → phone → 跳过 → description → 确认提交,
    every choice picked by its number, as a worker on WeChat would."""
    running, wechat = plain

    async def say(text: str) -> str:
        return (await wechat.deliver(wechat.text(WORKER, text))).content

    consent = await say("法律援助")
    category = await say(numbered(consent)["同意"])
    district = await say(numbered(category)["欠薪"])
    districts = [label for label in numbered(district) if label.endswith("区")]
    assert len(districts) == 16
    phone = await say(numbered(district)["西青区"])
    employer = await say("13812345678")
    description = await say(numbered(employer)["跳过"])
    summary = await say("老板拖欠三个月工资不给")
    assert "西青区" in summary and "欠薪" in summary
    submitted = await say(numbered(summary)["确认提交"])
    assert re.search(r"LA-\d{8}-\d{4}", submitted), submitted
    assert "手机号" in phone and description
    with Session(running.engine) as session:
        (case,) = session.exec(select(LegalAidCase)).all()
    assert case.channel == "wechat" and case.address == WORKER
    assert case.district == "西青区" and case.category == "wages" and case.employer is None
    assert case.user_key == running.user_keys.key_for("wechat", WORKER)


async def test_a_case_notice_reaches_a_wechat_worker_with_numbered_choices(
    tmp_path: Path, engine: Engine, plan_matcher: Matcher
) -> None:
    """A legal-aid notice queued for a WeChat worker goes out as a customer-service message."""
    async with FakeCustomerServiceApi() as api:
        section = wechat_section("plain", appsecret=APPSECRET, api_base_url=api.base_url)
        settings = settings_for(tmp_path, wechat=section)
        async with running_server(settings, engine, plan_matcher) as running:
            wechat = WechatPlatform(running.http)
            for text in (
                "法律援助",
                "1",
                "2",
                "1",
                "13812345678",
                "1",
                "工地上摔伤了老板不管",
                "1",
            ):
                await wechat.deliver(wechat.text(WORKER, text))
        with Session(engine) as session:
            (case,) = session.exec(select(LegalAidCase)).all()
            assert case.id is not None and case.category == "injury"
            number = case.number
            enqueue(
                dedupe_key=f"case:{case.id}:claimed",
                channel="wechat",
                address=WORKER,
                kind=WORKER_NOTICE,
                case_id=case.id,
                event="claimed",
                session=session,
            )
            session.commit()
        # The sender starts with the server and sends what is due at once.
        async with running_server(settings, engine, plan_matcher):
            (notice,) = await api.wait_for(1)
    assert notice.openid == WORKER and number in notice.content


async def test_two_menu_taps_in_one_second_are_both_answered(
    plain: tuple[Server, WechatPlatform],
) -> None:
    _, wechat = plain
    housing = await wechat.deliver(wechat.event(WORKER, "CLICK", "topic:housing", create_time=7))
    school = await wechat.deliver(wechat.event(WORKER, "CLICK", "topic:school", create_time=7))
    assert "“住房”方面" in housing.content and "“孩子上学”方面" in school.content


async def test_a_traditional_question_gets_traditional_numbered_lines(
    plain: tuple[Server, WechatPlatform],
) -> None:
    _, wechat = plain
    reply = await wechat.deliver(wechat.text(WORKER, "孩子能上公辦學校嗎"))
    assert "隨遷子女" in reply.content and "依據：" in reply.content
    assert "回覆 1 查看原文" in reply.content and "回复" not in reply.content
    full = await wechat.deliver(wechat.text(WORKER, "1"))
    assert "原文" in full.content


LONG_REGULATION = """天津市某某工资支付办法

第一章　总则

第一条　为了保障劳动者按时足额取得工资，制定本办法。

第二章　工资支付

第八条　{long}

第三章　附则

第九条　本办法自２０２４年１月１日起施行。
"""


async def test_a_long_clause_is_paged_with_its_citation_and_the_rest_by_number(
    tmp_path: Path, engine: Engine
) -> None:
    sentence = (
        "用人单位应当按照劳动合同约定的日期以货币形式足额支付劳动者工资，不得克扣或者无故拖欠。"
    )
    source = tmp_path / "long.txt"
    source.write_text(LONG_REGULATION.format(long=sentence * 40), encoding="utf-8")
    matcher = Matcher([(parse_file(source), None)], load_lexicon())
    settings = settings_for(tmp_path, wechat=wechat_section("plain"))
    async with running_server(settings, engine, matcher) as running:
        wechat = WechatPlatform(running.http)
        answer = await wechat.deliver(wechat.text(WORKER, "用人单位克扣或者无故拖欠工资"))
        if "第八条" not in answer.content:  # offered as related: follow it
            related = next(n for label, n in numbered(answer.content).items() if "相关" in label)
            answer = await wechat.deliver(wechat.text(WORKER, related))
        assert "第八条" in answer.content
        full = await wechat.deliver(wechat.text(WORKER, numbered(answer.content)["查看原文"]))
        assert len(full.content.encode()) <= 2048 and "依据：《" in full.content
        rest = await wechat.deliver(wechat.text(WORKER, numbered(full.content)["看后面"]))
        assert len(rest.content.encode()) <= 2048 and "依据：《" in rest.content
        assert rest.content.split("\n")[0] not in full.content


async def test_a_retry_arriving_during_the_first_delivery_waits_for_its_reply(
    server: tuple[Server, WechatPlatform],
) -> None:
    running, wechat = server
    message = wechat.text(WORKER, "公租房怎么申请")
    first, retried = await asyncio.gather(wechat.deliver(message), wechat.deliver(message))
    assert first.content == retried.content and "依据：" in first.content
    assert question_count(running.engine) == 1


async def test_subscribing_through_a_poster_qr_code_records_its_campaign(
    plain: tuple[Server, WechatPlatform],
) -> None:
    running, wechat = plain
    reply = await wechat.deliver(wechat.event(WORKER, "subscribe", "qrscene_chunfeng2027_xiqing"))
    assert "政策小助手" in reply.content
    with Session(running.engine) as session:
        (person,) = session.exec(select(UserRecord)).all()
    assert person.channel == "wechat" and person.source == "chunfeng2027_xiqing"
