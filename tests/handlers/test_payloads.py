"""Button payloads come from outside (forged callback data, web-chat choices): one strict parser
refuses what the dialogue never writes, and every flow answers politely instead of failing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from bot.storage.case_desk import SqlCaseDesk
from bot.storage.dialogue_store import SqlDialogueStore
from handlers import texts
from handlers.cases import CONSENT_VERSION, CaseDraft, StaffMember
from handlers.casework import Casework
from handlers.flows import build_dialogue
from handlers.legal_aid import LegalAidFlow
from handlers.messages import IncomingMessage
from handlers.payloads import MAX_ID, Payload, parse_id, parse_payload
from knowledge.match import Matcher

USER = "te-payloads"
STAFF = StaffMember("telegram:7", "王")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fb:12:1", Payload("fb", ("12", "1"))),
        ("menu", Payload("menu")),
        ("la:district:3", Payload("la", ("district", "3"))),
        ("full:tianjin-2023-county-migrant-plan:2.3.3",
         Payload("full", ("tianjin-2023-county-migrant-plan", "2.3.3"))),
    ],
)  # fmt: skip
def test_payloads_the_dialogue_writes_are_read(text: str, expected: Payload) -> None:
    assert parse_payload(text) == expected
    assert expected.text == text


@pytest.mark.parametrize(
    "text",
    ["", "fb:²:1", "la:dist:²", "fb::1", "fb:1:", "FB:1:1", "fb:1:1\x00", "fb:1 :1", "法律援助",
     "la:" + "9" * 70, "topic:jobs\n", ":menu"],
)  # fmt: skip
def test_anything_else_is_refused(text: str) -> None:
    assert parse_payload(text) is None


def test_ids_are_ascii_digits_that_fit_a_64_bit_column() -> None:
    assert parse_id("0") == 0 and parse_id(str(MAX_ID)) == MAX_ID
    for wrong in ("9223372036854775808", "²", "١٢", "-1", "+1", "01", "1.0", " 1", ""):
        assert parse_id(wrong) is None, wrong


@pytest.fixture
def desk(engine: Engine) -> SqlCaseDesk:
    return SqlCaseDesk(engine, staff_chat=None)


async def answer_to(engine: Engine, matcher: Matcher, desk: SqlCaseDesk, *payloads: str) -> str:
    flow = LegalAidFlow(
        desk,
        timeout=timedelta(minutes=30),
        retention_days=365,
        to_simplified=matcher.converter.to_simplified,
    )
    dialogue = build_dialogue(matcher, SqlDialogueStore(engine), legal_aid=flow)
    text = ""
    for payload in payloads:
        message = (
            IncomingMessage.pressed(USER, "web", payload.removeprefix("!"))
            if not payload.startswith("!")
            else IncomingMessage.typed(USER, "web", payload.removeprefix("!"))
        )
        text = (await dialogue.handle(message)).replies[-1].text
    return text


@pytest.mark.parametrize("payload", ["fb:²:1", "fb:9223372036854775808:1", "fb:1:2", "topic:"])
async def test_a_malformed_button_is_answered_politely(
    engine: Engine, plan_matcher: Matcher, desk: SqlCaseDesk, payload: str
) -> None:
    assert await answer_to(engine, plan_matcher, desk, payload) == texts.UNKNOWN_CHOICE


async def test_a_malformed_district_button_re_asks_the_district(
    engine: Engine, plan_matcher: Matcher, desk: SqlCaseDesk
) -> None:
    await answer_to(engine, plan_matcher, desk, "!法律援助", "!同意", "!欠薪")
    for district in ("la:dist:²", "la:district:²", "la:district:16", "la:district:9223372036854775808"):  # fmt: skip
        assert "哪个区" in await answer_to(engine, plan_matcher, desk, district), district
    assert "手机号" in await answer_to(engine, plan_matcher, desk, "la:district:15")


async def test_a_malformed_case_button_is_refused_politely(
    engine: Engine, plan_matcher: Matcher, desk: SqlCaseDesk
) -> None:
    await desk.submit(
        CaseDraft(USER, "web", None, "wages", "武清区", "13812345678", None, "拖欠工资三个月",
                  datetime.now(UTC), CONSENT_VERSION),
        state_after=lambda _case: {},
    )  # fmt: skip
    casework = Casework(desk, SqlDialogueStore(engine), staff_ids=frozenset({STAFF.id}))
    for payload in ("case:claim:²", "case:claim:9223372036854775808", "case:claim", "case:x:1"):
        answer = await casework.press(STAFF, payload)
        assert answer.acknowledgement == texts.STAFF_CASE_GONE, payload
    assert (await casework.press(STAFF, "case:claim:1")).acknowledgement != texts.STAFF_CASE_GONE
