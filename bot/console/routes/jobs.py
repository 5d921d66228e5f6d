"""岗位: the imported postings staff look after — reported ones first — and 下架 / 恢复, each in
the audit log. Caseworkers and admins, like the inbox."""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel import Session
from starlette.responses import RedirectResponse, Response

from bot.console.context import Console
from bot.console.guard import ConsoleRoute, StaffRequest
from bot.console.roles import CASEWORK
from bot.storage.engine import in_transaction
from bot.storage.job_models import JobPostingRecord
from bot.storage.repositories import audit, job_postings
from bot.storage.repositories.audit import AuditAction
from handlers.campaigns import today_in_tianjin

MESSAGES: Mapping[str, str] = {"hidden": "已下架，工人看不到了。", "shown": "已恢复。"}


class JobRoutes:
    def __init__(self, console: Console) -> None:
        self._console = console

    async def page(self, visit: StaffRequest) -> Response:
        today = today_in_tianjin()

        def work(session: Session) -> list[tuple[JobPostingRecord, int, bool]]:
            reports = job_postings.report_counts(session=session)
            rows = [
                (record, reports.get(record.id or 0, 0), job_postings.is_live(record, today))
                for record in job_postings.all_postings(session=session)
            ]
            # Reported first, then live ones; expired postings last.
            rows.sort(key=lambda row: (-row[1], not row[2], -(row[0].id or 0)))
            return rows

        rows = await in_transaction(self._console.engine, work)
        message = MESSAGES.get(visit.request.query_params.get("m", ""))
        return self._console.pages.render("jobs.html", visit.staff, rows=rows, message=message)

    async def _set_hidden(self, visit: StaffRequest, *, hidden: bool) -> Response:
        posting_id = int(visit.request.path_params["posting_id"])
        staff = visit.staff

        def work(session: Session) -> str | None:
            record = session.get(JobPostingRecord, posting_id)
            if record is None:
                return None
            job_postings.set_hidden(posting_id, hidden=hidden, by=staff.name, session=session)
            action = AuditAction.HIDE_POSTING if hidden else AuditAction.SHOW_POSTING
            audit.record(staff.actor_id, staff.name, action, detail=record.code, session=session)
            return record.code

        code = await in_transaction(self._console.engine, work)
        if code is None:
            return self._console.pages.refusal(staff, 404, "没有这个岗位。")
        return RedirectResponse(
            f"/console/jobs?m={'hidden' if hidden else 'shown'}", status_code=303
        )

    async def hide(self, visit: StaffRequest) -> Response:
        return await self._set_hidden(visit, hidden=True)

    async def show(self, visit: StaffRequest) -> Response:
        return await self._set_hidden(visit, hidden=False)

    def routes(self) -> list[ConsoleRoute]:
        return [
            ConsoleRoute("/console/jobs", self.page, CASEWORK),
            ConsoleRoute("/console/jobs/{posting_id:int}/hide", self.hide, CASEWORK, ("POST",)),
            ConsoleRoute("/console/jobs/{posting_id:int}/show", self.show, CASEWORK, ("POST",)),
        ]
