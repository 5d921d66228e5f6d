"""导出: the inbox's filtered cases as CSV or Excel. Phones are masked unless an admin ticks 完整号码;
every export is in the audit log with its filters and row count (never its content)."""

from __future__ import annotations

import json

from sqlmodel import Session
from starlette.responses import Response

from bot.console.context import Console
from bot.console.export import CSV_TYPE, XLSX_TYPE, cases_csv, cases_xlsx
from bot.console.guard import ConsoleRoute, StaffRequest
from bot.console.pages import beijing, download
from bot.console.roles import CASEWORK, Role
from bot.console.routes.cases import FILTER_FIELDS, case_filter
from bot.storage.engine import in_transaction
from bot.storage.models import LegalAidCase, utc_now
from bot.storage.repositories import audit
from bot.storage.repositories.audit import AuditAction
from bot.storage.repositories.case_inbox import filtered_cases


class ExportRoutes:
    def __init__(self, console: Console) -> None:
        self._console = console

    async def export(self, visit: StaffRequest) -> Response:
        values = {name: visit.field(name) for name in FILTER_FIELDS}
        filters, shown = case_filter(values)
        as_excel = visit.field("format") == "xlsx"
        # Only an admin may take the numbers out of the console.
        full_phone = visit.field("full_phone") == "1" and visit.staff.role == Role.ADMIN
        staff = visit.staff

        def work(session: Session) -> list[LegalAidCase]:
            records = filtered_cases(filters, session=session, limit=None)
            detail = {
                "format": "xlsx" if as_excel else "csv",
                "full_phone": full_phone,
                "rows": len(records),
                "filters": {k: v for k, v in shown.items() if v},
            }
            audit.record(
                staff.actor_id,
                staff.name,
                AuditAction.EXPORT,
                detail=json.dumps(detail, ensure_ascii=False, sort_keys=True),
                session=session,
            )
            return records

        records = await in_transaction(self._console.engine, work)
        stamp = beijing(utc_now(), "%Y%m%d-%H%M")
        if as_excel:
            body = cases_xlsx(records, full_phone=full_phone)
            return download(body, f"法律援助-{stamp}.xlsx", XLSX_TYPE)
        return download(
            cases_csv(records, full_phone=full_phone), f"法律援助-{stamp}.csv", CSV_TYPE
        )

    def routes(self) -> list[ConsoleRoute]:
        return [ConsoleRoute("/console/cases/export", self.export, CASEWORK, ("POST",))]
