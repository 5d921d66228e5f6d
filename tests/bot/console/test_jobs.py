"""岗位 in the console: reported postings first, 下架 hides one from every worker (audited, CSRF
like every form), curators cannot; the figures page carries the job figures."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.campaigns.job_sheet import HEADER, check_sheet
from bot.console.roles import Role
from bot.storage.console_models import AuditEntry
from bot.storage.engine import run_transaction
from bot.storage.job_models import JobPostingRecord
from bot.storage.repositories import job_postings
from handlers.campaigns import today_in_tianjin
from knowledge.jobs import load_job_tables
from tests.bot.campaigns.job_fixtures import CLEANER, WELDER
from tests.bot.console.conftest import ConsoleServer, add_staff, sign_in


def import_two(console: ConsoleServer) -> dict[str, int]:
    result = check_sheet([list(HEADER), WELDER, CLEANER], load_job_tables())

    def work(session: Session) -> dict[str, int]:
        job_postings.upsert_postings(result.rows, file_name="a.xlsx", session=session)
        session.flush()
        ids = {p.code: p.id or 0 for p in session.exec(select(JobPostingRecord)).all()}
        job_postings.record_event(
            job_postings.REPORTED, posting_id=ids["JN-002"], user_key="u", session=session
        )
        return ids

    return run_transaction(console.engine, work)


def live_codes(console: ConsoleServer) -> list[str]:
    today = today_in_tianjin()
    return run_transaction(
        console.engine,
        lambda s: sorted(p.code for p in job_postings.live_postings(today, session=s)),
    )


async def test_a_caseworker_hides_a_reported_posting_and_it_is_audited(
    console: ConsoleServer,
) -> None:
    ids = import_two(console)
    add_staff(console.engine, "li", Role.CASEWORKER)
    csrf = await sign_in(console.http, "li")
    page = (await console.http.get("/console/jobs")).text
    assert page.index("JN-002") < page.index("XQ-001")  # the reported one first
    refused = await console.http.post(f"/console/jobs/{ids['JN-002']}/hide", data={})
    assert refused.status_code == 403 and len(live_codes(console)) == 2
    hidden = await console.http.post(
        f"/console/jobs/{ids['JN-002']}/hide", data={"csrf_token": csrf}
    )
    assert hidden.status_code == 303 and live_codes(console) == ["XQ-001"]
    with Session(console.engine) as session:
        (entry,) = session.exec(select(AuditEntry).where(AuditEntry.action == "hide_posting")).all()
    assert (entry.actor_name, entry.detail) == ("li", "JN-002")
    await console.http.post(f"/console/jobs/{ids['JN-002']}/show", data={"csrf_token": csrf})
    assert len(live_codes(console)) == 2


async def test_a_curator_cannot_hide_but_sees_the_job_figures(console: ConsoleServer) -> None:
    ids = import_two(console)
    add_staff(console.engine, "zhao", Role.CURATOR)
    csrf = await sign_in(console.http, "zhao")
    refused = await console.http.post(
        f"/console/jobs/{ids['XQ-001']}/hide", data={"csrf_token": csrf}
    )
    assert refused.status_code == 403 and len(live_codes(console)) == 2
    figures = (await console.http.get("/console/figures")).text
    assert "岗位推送：按区" in figures and "岗位推送：按工种" in figures
    table = await console.http.get("/console/figures/jobs-by-district.csv")
    assert "西青区,1,0,0" in table.content.decode("utf-8-sig")
