"""The legal-aid inbox: filters, order and counts, the feed for new cases, the case page and its
audit trail, and 接单 / 备注 / 结案 on the same case desk as the Telegram card."""

from __future__ import annotations

from sqlmodel import Session, col, select

from bot.console.roles import Role
from bot.storage.console_models import AuditEntry
from bot.storage.engine import run_transaction
from bot.storage.models import LegalAidCase, OutboxMessage
from bot.storage.repositories.cases import anonymise_user_cases
from handlers.cases import CaseStatus, StaffMember
from handlers.casework import Casework
from handlers.state import MemoryDialogueStore
from tests.bot.console.conftest import ConsoleServer, add_staff, sign_in, submit_case


def audit_actions(console: ConsoleServer, number: str) -> list[str]:
    with Session(console.engine) as session:
        rows = session.exec(
            select(AuditEntry)
            .where(col(AuditEntry.case_number) == number)
            .order_by(col(AuditEntry.id))
        ).all()
    return [row.action for row in rows]


def outbox(console: ConsoleServer, kind: str) -> list[OutboxMessage]:
    with Session(console.engine) as session:
        return list(session.exec(select(OutboxMessage).where(col(OutboxMessage.kind) == kind)))


async def test_the_list_puts_pending_first_newest_first_with_counts(console: ConsoleServer) -> None:
    add_staff(console.engine, "li", Role.CASEWORKER)
    first = await submit_case(console.app, category="wages")
    second = await submit_case(console.app, category="injury", district="武清区")
    third = await submit_case(console.app, category="wages")
    await console.app.desk.claim(third.id, StaffMember("console:9", "li"))
    await sign_in(console.http, "li")
    page = (await console.http.get("/console/cases")).text
    assert page.index(second.number) < page.index(first.number) < page.index(third.number)
    assert 'data-count="pending">2<' in page and 'data-count="claimed">1<' in page
    assert "138****5678" in page and "13812345678" not in page


async def test_filters_by_status_type_district_and_date(console: ConsoleServer) -> None:
    add_staff(console.engine, "li", Role.CASEWORKER)
    wages = await submit_case(console.app, category="wages")
    injury = await submit_case(console.app, category="injury", district="武清区")
    await sign_in(console.http, "li")
    by_type = (await console.http.get("/console/cases?category=injury")).text
    assert injury.number in by_type and wages.number not in by_type
    by_district = (await console.http.get("/console/cases?district=西青区")).text
    assert wages.number in by_district and injury.number not in by_district
    claimed = (await console.http.get("/console/cases?status=claimed")).text
    assert wages.number not in claimed and "没有符合条件的转介" in claimed
    past = (await console.http.get("/console/cases?from=2020-01-01&to=2020-01-31")).text
    assert wages.number not in past and injury.number not in past


async def test_the_feed_brings_cases_newer_than_the_page(console: ConsoleServer) -> None:
    add_staff(console.engine, "li", Role.CASEWORKER)
    old = await submit_case(console.app)
    await sign_in(console.http, "li")
    new = await submit_case(console.app, phone="13900001111")
    feed = (await console.http.get(f"/console/cases/feed?after={old.id}&status=")).json()
    assert [c["number"] for c in feed["cases"]] == [new.number]
    assert feed["cases"][0]["phone"] == "139****1111"
    assert feed["latest"] == new.id and feed["counts"] == {"pending": 2}


async def test_opening_a_case_shows_everything_and_is_audited(console: ConsoleServer) -> None:
    add_staff(console.engine, "li", Role.CASEWORKER)
    case = await submit_case(console.app)
    await sign_in(console.http, "li")
    page = (await console.http.get(f"/console/cases/{case.number}")).text
    for shown in (
        "某某建筑公司",
        "干了三个月活",
        "西青区",
        "欠薪",
        "隐私同意",
        "2026-11-29",
        "微信公众号",
    ):
        assert shown in page
    assert "138****5678" in page and "13812345678" not in page
    assert audit_actions(console, case.number) == ["view_case"]


async def test_show_number_reveals_it_and_is_audited(console: ConsoleServer) -> None:
    add_staff(console.engine, "li", Role.CASEWORKER)
    case = await submit_case(console.app)
    csrf = await sign_in(console.http, "li")
    page = await console.http.post(
        f"/console/cases/{case.number}/reveal", data={"csrf_token": csrf}
    )
    assert page.status_code == 200 and "13812345678" in page.text
    assert audit_actions(console, case.number) == ["reveal_phone"]


async def test_claim_in_the_console_refreshes_the_card_and_tells_the_worker_once(
    console: ConsoleServer,
) -> None:
    add_staff(console.engine, "li", Role.CASEWORKER)
    case = await submit_case(console.app)
    csrf = await sign_in(console.http, "li")
    first = await console.http.post(
        f"/console/cases/{case.number}/claim", data={"csrf_token": csrf}
    )
    second = await console.http.post(
        f"/console/cases/{case.number}/claim", data={"csrf_token": csrf}
    )
    assert first.headers["location"].endswith("m=claimed")
    assert second.headers["location"].endswith("m=already_claimed")
    (notice,) = outbox(console, "worker_notice")
    assert (notice.event, notice.channel, notice.address) == (
        "claimed",
        "wechat",
        "openid-worker-1",
    )
    page = (await console.http.get(f"/console/cases/{case.number}")).text
    assert "已接单" in page and "li" in page
    assert audit_actions(console, case.number)[:1] == ["claim"]


async def test_a_claim_on_the_telegram_card_shows_in_the_console(console: ConsoleServer) -> None:
    add_staff(console.engine, "li", Role.CASEWORKER)
    case = await submit_case(console.app)
    card = Casework(console.app.desk, MemoryDialogueStore(), staff_ids=frozenset({"telegram:42"}))
    await card.press(StaffMember("telegram:42", "张律师"), f"case:claim:{case.id}")
    await sign_in(console.http, "li")
    page = (await console.http.get(f"/console/cases/{case.number}")).text
    assert "已接单" in page and "张律师" in page
    # The card's change is in the audit log too, under its Telegram staff id.
    with Session(console.engine) as session:
        entry = session.exec(select(AuditEntry).where(col(AuditEntry.action) == "claim")).one()
    assert (entry.actor_id, entry.actor_name) == ("telegram:42", "张律师")


async def test_note_and_close_with_an_outcome(console: ConsoleServer) -> None:
    add_staff(console.engine, "li", Role.CASEWORKER)
    case = await submit_case(console.app)
    csrf = await sign_in(console.http, "li")
    noted = await console.http.post(
        f"/console/cases/{case.number}/note", data={"csrf_token": csrf, "note": "已电话联系"}
    )
    empty = await console.http.post(
        f"/console/cases/{case.number}/close", data={"csrf_token": csrf, "outcome": "  "}
    )
    closed = await console.http.post(
        f"/console/cases/{case.number}/close", data={"csrf_token": csrf, "outcome": "已追回工资"}
    )
    assert noted.headers["location"].endswith("m=noted")
    assert empty.headers["location"].endswith("m=empty")
    assert closed.headers["location"].endswith("m=closed")
    with Session(console.engine) as session:
        record = session.exec(select(LegalAidCase)).one()
    assert record.status == CaseStatus.CLOSED and record.outcome == "已追回工资"
    assert [n["text"] for n in record.notes] == ["已电话联系"]
    assert [n.event for n in outbox(console, "worker_notice")] == ["closed"]
    assert audit_actions(console, case.number) == ["note", "close"]
    page = (await console.http.get(f"/console/cases/{case.number}")).text
    assert "已结案" in page and "已追回工资" in page and "结果<textarea" not in page


async def test_an_anonymised_case_shows_no_personal_data(console: ConsoleServer) -> None:
    add_staff(console.engine, "li", Role.CASEWORKER)
    case = await submit_case(console.app)
    run_transaction(console.engine, lambda s: anonymise_user_cases("worker-1", session=s))
    await sign_in(console.http, "li")
    page = (await console.http.get(f"/console/cases/{case.number}")).text
    assert "某某建筑公司" not in page and "显示号码" not in page and "已删除" in page


async def test_an_unknown_case_is_404(console: ConsoleServer) -> None:
    add_staff(console.engine, "li", Role.CASEWORKER)
    await sign_in(console.http, "li")
    assert (await console.http.get("/console/cases/LA-20200101-0001")).status_code == 404
