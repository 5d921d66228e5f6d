"""统计 and 审计记录: the figures from what the bot stored, drawn as SVG and downloadable as CSV;
the audit log filtered and downloadable by admins."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from bot.console.charts import horizontal_bars, stacked_bars
from bot.console.figures import answer_quality, campaign_places, case_times, cases_by
from bot.console.roles import Role
from bot.console.routes.figures import FIGURES_SHOWN
from bot.storage.engine import run_transaction
from bot.storage.models import CampaignArrival, CampaignRecord, LegalAidCase, QuestionRow
from handlers.cases import StaffMember
from tests.bot.console.conftest import ConsoleServer, add_staff, sign_in, submit_case

SINCE = datetime.now(UTC) - timedelta(days=30)


def add_rows(console: ConsoleServer, *rows: object) -> None:
    def work(session: Session) -> None:
        for row in rows:
            session.add(row)

    run_transaction(console.engine, work)


def test_charts_escape_their_text_and_need_no_script() -> None:
    svg = stacked_bars("t<x>", ["2027-01-01"], [("<b>工伤</b>", [3.0])])
    bars = horizontal_bars("t", [("西青区&", 2.0)])
    assert "<b>" not in svg and "&lt;b&gt;工伤" in svg and "西青区&amp;" in bars
    assert "<script" not in svg + bars and "style=" not in svg + bars


async def test_answer_quality_counts_fallbacks_and_feedback(console: ConsoleServer) -> None:
    add_rows(
        console,
        QuestionRow(user_key="a", channel="web", topic="wages", useful=True),
        QuestionRow(user_key="a", channel="web", topic="wages", useful=False),
        QuestionRow(user_key="b", channel="web", topic="housing"),
        QuestionRow(user_key="b", channel="web", fallback=True),
    )
    with Session(console.engine) as session:
        ((_day, total, fallbacks, share, up, down, up_share, down_share),) = answer_quality(
            SINCE, session=session
        ).rows
    assert (total, fallbacks, share, up, down, up_share, down_share) == (
        4,
        1,
        25.0,
        1,
        1,
        50.0,
        50.0,
    )


async def test_case_figures_by_type_status_and_median_times(console: ConsoleServer) -> None:
    first = await submit_case(console.app)
    await submit_case(console.app, category="injury")
    staff = StaffMember("console:1", "li")
    await console.app.desk.claim(first.id, staff)
    await console.app.desk.close(first.id, staff, "已解决")

    def backdate(session: Session) -> None:  # submitted two hours before it was claimed
        record = session.get(LegalAidCase, first.id)
        assert record is not None and record.claimed_at is not None
        record.created_at = record.claimed_at - timedelta(hours=2)
        session.add(record)

    run_transaction(console.engine, backdate)
    with Session(console.engine) as session:
        assert dict(cases_by("category", SINCE, session=session).rows) == {"欠薪": 1, "工伤": 1}
        assert dict(cases_by("status", SINCE, session=session).rows) == {"已结案": 1, "待接单": 1}
        times = {row[0]: row for row in case_times(SINCE, session=session).rows}
    assert times["全部"][1:4] == (2, 1, 2.0)
    assert times["欠薪"][4:] == (1, 2.0)


async def test_campaign_places_follow_arrivals_to_questions_and_cases(
    console: ConsoleServer,
) -> None:
    now = datetime.now(UTC)
    add_rows(
        console,
        CampaignRecord(code="cf", name="春风行动", starts_on=now.date(), ends_on=now.date()),
        CampaignArrival(user_key="a", campaign_code="cf", place="xiqing", arrived_at=now - timedelta(hours=1)),
        CampaignArrival(user_key="b", campaign_code="cf", place="xiqing", arrived_at=now - timedelta(hours=1)),
        CampaignArrival(user_key="c", campaign_code="cf", place="wuqing", arrived_at=now - timedelta(hours=1)),
        QuestionRow(user_key="a", channel="web", asked_at=now),
        QuestionRow(user_key="a", channel="web", asked_at=now),
        QuestionRow(user_key="a", channel="web", asked_at=now - timedelta(days=1)),  # before arriving
    )  # fmt: skip
    case = await submit_case(console.app)
    run_transaction(
        console.engine, lambda s: s.add(_with_source(s.get(LegalAidCase, case.id), "cf_xiqing"))
    )
    with Session(console.engine) as session:
        rows = {row[2]: row for row in campaign_places(SINCE, session=session).rows}
    assert rows["xiqing"] == ("春风行动", "cf", "xiqing", 2, 2, 2, 1)
    assert rows["wuqing"][3:] == (1, 1, 0, 0)


def _with_source(record: LegalAidCase | None, source: str) -> LegalAidCase:
    assert record is not None
    record.source = source
    return record


async def test_the_figures_page_draws_every_figure_and_offers_its_csv(
    console: ConsoleServer,
) -> None:
    add_rows(console, QuestionRow(user_key="a", channel="web", topic="wages"))
    add_staff(console.engine, "zhao", Role.CURATOR)
    await sign_in(console.http, "zhao")
    page = (await console.http.get("/console/figures?days=7")).text
    shown = len(FIGURES_SHOWN)  # the questions', cases', places' and job postings' figures
    assert shown == 11 and page.count("<svg") == shown and page.count("下载 CSV") == shown
    response = await console.http.get("/console/figures/questions-daily.csv?days=7")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["日期", "主题", "提问数"] and rows[1][1:] == ["工资", "1"]
    assert (await console.http.get("/console/figures/nothing.csv")).status_code == 404


async def test_admins_read_and_filter_the_audit_log(console: ConsoleServer) -> None:
    add_staff(console.engine, "boss", Role.ADMIN)
    add_staff(console.engine, "li", Role.CASEWORKER)
    first = await submit_case(console.app)
    second = await submit_case(console.app)
    await sign_in(console.http, "li")
    await console.http.get(f"/console/cases/{first.number}")
    await console.http.get(f"/console/cases/{second.number}")
    async with console.client() as admin:
        await sign_in(admin, "boss")
        page = (await admin.get(f"/console/audit?actor=li&case={first.number}")).text
        assert page.count("查看案件</td>") == 1 and first.number in page
        assert second.number not in page.split("<tbody>")[1]
        logins = (await admin.get("/console/audit?action=login")).text
        assert logins.count("登录</td>") == 2
        download = await admin.get("/console/audit.csv?action=view_case")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["时间", "人员", "人员编号", "操作"]
    assert sorted(row[4] for row in rows[1:]) == sorted([first.number, second.number])
