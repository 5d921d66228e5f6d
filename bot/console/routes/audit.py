"""The audit log for admins: who did what, when, to which case; filtered, and as CSV."""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel import Session
from starlette.responses import Response

from bot.console.context import Console
from bot.console.export import CSV_TYPE, table_csv
from bot.console.guard import ConsoleRoute, StaffRequest
from bot.console.pages import beijing, download
from bot.console.roles import AUDIT
from bot.console.routes.cases import case_filter
from bot.storage.console_models import AuditEntry
from bot.storage.engine import in_transaction
from bot.storage.models import utc_now
from bot.storage.repositories import audit
from bot.storage.repositories.audit import AuditAction, AuditFilter

ACTION_LABELS: Mapping[str, str] = {
    AuditAction.VIEW_CASE: "查看案件",
    AuditAction.REVEAL_PHONE: "显示号码",
    AuditAction.EXPORT: "导出",
    AuditAction.CLAIM: "接单",
    AuditAction.NOTE: "备注",
    AuditAction.CLOSE: "结案",
    AuditAction.LOGIN: "登录",
    AuditAction.LOGIN_FAILED: "登录失败",
    AuditAction.LOGOUT_EVERYWHERE: "退出所有设备",
    AuditAction.HIDE_POSTING: "下架岗位",
    AuditAction.SHOW_POSTING: "恢复岗位",
}
CSV_HEADER = ("时间", "人员", "人员编号", "操作", "案件编号", "详情")


def audit_filter(values: Mapping[str, str]) -> tuple[AuditFilter, dict[str, str]]:
    # The dates read like the inbox's (Beijing days, both ends included).
    days, shown_days = case_filter({"from": values.get("from", ""), "to": values.get("to", "")})
    action = values.get("action", "").strip()
    shown = {
        "actor": values.get("actor", "").strip()[:64],
        "action": action if action in ACTION_LABELS else "",
        "case": values.get("case", "").strip()[:32],
        "from": shown_days["from"],
        "to": shown_days["to"],
    }
    return (
        AuditFilter(
            actor=shown["actor"] or None,
            action=shown["action"] or None,
            case_number=shown["case"] or None,
            since=days.since,
            until=days.until,
        ),
        shown,
    )


class AuditRoutes:
    def __init__(self, console: Console) -> None:
        self._console = console

    async def _entries(self, filters: AuditFilter) -> tuple[list[AuditEntry], list[str]]:
        def work(session: Session) -> tuple[list[AuditEntry], list[str]]:
            return audit.entries(filters, session=session), audit.actor_names(session=session)

        return await in_transaction(self._console.engine, work)

    async def log(self, visit: StaffRequest) -> Response:
        filters, shown = audit_filter(visit.request.query_params)
        entries, actors = await self._entries(filters)
        return self._console.pages.render(
            "audit.html",
            visit.staff,
            entries=entries,
            actors=actors,
            filters=shown,
            action_labels=ACTION_LABELS,
            limit=audit.MAX_ROWS,
        )

    async def download(self, visit: StaffRequest) -> Response:
        filters, _shown = audit_filter(visit.request.query_params)
        entries, _actors = await self._entries(filters)
        rows = [
            (
                beijing(entry.at, "%Y-%m-%d %H:%M:%S"),
                entry.actor_name,
                entry.actor_id,
                ACTION_LABELS.get(entry.action, entry.action),
                entry.case_number or "",
                entry.detail,
            )
            for entry in entries
        ]
        name = f"审计记录-{beijing(utc_now(), '%Y%m%d-%H%M')}.csv"
        return download(table_csv(CSV_HEADER, rows), name, CSV_TYPE)

    def routes(self) -> list[ConsoleRoute]:
        return [
            ConsoleRoute("/console/audit", self.log, AUDIT),
            ConsoleRoute("/console/audit.csv", self.download, AUDIT),
        ]
