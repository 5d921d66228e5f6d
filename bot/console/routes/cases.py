"""The legal-aid inbox: the filtered list with its counts (and a feed the page polls for new
cases), one case in full, 显示号码, and 接单 / 备注 / 结案 through the same case desk as the
Telegram card — so the card is refreshed through the outbox and the worker hears once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta

from sqlmodel import Session
from starlette.responses import JSONResponse, RedirectResponse, Response

from bot.console.context import Console
from bot.console.guard import ConsoleRoute, StaffRequest
from bot.console.pages import STATUS_LABELS, beijing
from bot.console.roles import CASEWORK
from bot.storage.console_models import AuditEntry
from bot.storage.engine import in_transaction
from bot.storage.models import LegalAidCase
from bot.storage.repositories import audit
from bot.storage.repositories.audit import AuditAction
from bot.storage.repositories.case_inbox import (
    CaseFilter,
    filtered_cases,
    latest_case_id,
    status_counts,
)
from bot.storage.repositories.cases import get_case_by_number
from handlers.cases import BEIJING, CATEGORIES, DISTRICTS, ChangeOutcome
from handlers.casework import MAX_NOTE_CHARS
from handlers.phone import masked

FILTER_FIELDS = ("status", "category", "district", "from", "to")
# The message shown after an action, by the code the redirect carries (never user text in URLs).
MESSAGES: Mapping[str, str] = {
    "claimed": "已接单，已通知求助人。",
    "noted": "备注已保存。",
    "closed": "已结案，已通知求助人。",
    ChangeOutcome.ALREADY_CLAIMED.value: "这件已经有人接单了。",
    ChangeOutcome.ALREADY_CLOSED.value: "这件已经结案了。",
    "empty": "请先填写内容。",
}


def parse_day(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def case_filter(values: Mapping[str, str]) -> tuple[CaseFilter, dict[str, str]]:
    """The filter from the query string, and the recognised values to show back in the form."""
    shown = {name: values.get(name, "").strip() for name in FILTER_FIELDS}
    if shown["status"] not in STATUS_LABELS:
        shown["status"] = ""
    if shown["category"] not in CATEGORIES:
        shown["category"] = ""
    if shown["district"] not in DISTRICTS:
        shown["district"] = ""
    since, until = parse_day(shown["from"]), parse_day(shown["to"])
    shown["from"] = since.isoformat() if since else ""
    shown["to"] = until.isoformat() if until else ""
    return (
        CaseFilter(
            status=shown["status"] or None,
            category=shown["category"] or None,
            district=shown["district"] or None,
            # Beijing days: from the first day's midnight to the midnight after the last day.
            since=datetime.combine(since, time(), BEIJING) if since else None,
            until=datetime.combine(until + timedelta(days=1), time(), BEIJING) if until else None,
        ),
        shown,
    )


def feed_row(record: LegalAidCase) -> dict[str, str]:
    return {
        "number": record.number,
        "status": record.status,
        "status_label": STATUS_LABELS.get(record.status, record.status),
        "category": CATEGORIES.get(record.category, record.category),
        "district": record.district,
        "phone": masked(record.phone),
        "created": beijing(record.created_at),
        "claimed_by": record.claimed_by or "",
        "url": f"/console/cases/{record.number}",
    }


class CaseRoutes:
    def __init__(self, console: Console) -> None:
        self._console = console

    async def inbox(self, visit: StaffRequest) -> Response:
        filters, shown = case_filter(visit.request.query_params)

        def work(session: Session) -> tuple[list[LegalAidCase], dict[str, int], int]:
            return (
                filtered_cases(filters, session=session),
                status_counts(filters, session=session),
                latest_case_id(session=session),
            )

        cases, counts, latest = await in_transaction(self._console.engine, work)
        return self._console.pages.render(
            "cases.html",
            visit.staff,
            cases=cases,
            counts=counts,
            total=sum(counts.values()),
            filters=shown,
            latest=latest,
        )

    async def feed(self, visit: StaffRequest) -> Response:
        """New cases since `after` under the page's filters, and the counts (for polling)."""
        filters, _shown = case_filter(visit.request.query_params)
        after_text = visit.request.query_params.get("after", "0")
        after = int(after_text) if after_text.isdigit() else 0

        def work(session: Session) -> dict[str, object]:
            fresh = filtered_cases(filters, session=session, after_id=after, limit=50)
            return {
                "latest": latest_case_id(session=session),
                "counts": status_counts(filters, session=session),
                "cases": [feed_row(record) for record in fresh],
            }

        return JSONResponse(await in_transaction(self._console.engine, work))

    async def _show(self, visit: StaffRequest, *, reveal: bool) -> Response:
        number = visit.request.path_params["number"]
        staff = visit.staff

        def work(session: Session) -> tuple[LegalAidCase | None, list[AuditEntry]]:
            record = get_case_by_number(number, session=session)
            if record is None:
                return None, []
            if record.anonymised_at is None:  # a view of personal data, or a phone revealed
                action = AuditAction.REVEAL_PHONE if reveal else AuditAction.VIEW_CASE
                audit.record(
                    staff.actor_id, staff.name, action, case_number=number, session=session
                )
            session.flush()
            return record, audit.case_history(number, session=session)

        record, history = await in_transaction(self._console.engine, work)
        if record is None:
            return self._console.pages.refusal(staff, 404, "没有这件案件。")
        message = MESSAGES.get(visit.request.query_params.get("m", ""))
        return self._console.pages.render(
            "case.html",
            staff,
            case=record,
            history=history,
            reveal=reveal and record.phone is not None,
            message=message,
            max_note_chars=MAX_NOTE_CHARS,
        )

    async def show(self, visit: StaffRequest) -> Response:
        return await self._show(visit, reveal=False)

    async def reveal(self, visit: StaffRequest) -> Response:
        """显示号码: the page again with the number, after the reveal is in the audit log."""
        return await self._show(visit, reveal=True)

    async def _case_id(self, number: str) -> int | None:
        record = await in_transaction(
            self._console.engine, lambda s: get_case_by_number(number, session=s)
        )
        return record.id if record is not None else None

    def _back(self, number: str, code: str) -> Response:
        return RedirectResponse(f"/console/cases/{number}?m={code}", status_code=303)

    async def claim(self, visit: StaffRequest) -> Response:
        number = visit.request.path_params["number"]
        case_id = await self._case_id(number)
        if case_id is None:
            return self._console.pages.refusal(visit.staff, 404, "没有这件案件。")
        change = await self._console.deps.desk.claim(case_id, visit.staff.member)
        return self._back(
            number, "claimed" if change.outcome == ChangeOutcome.DONE else change.outcome
        )

    async def _write(self, visit: StaffRequest, field: str, action: str) -> Response:
        number = visit.request.path_params["number"]
        text = visit.field(field).strip()[:MAX_NOTE_CHARS]
        case_id = await self._case_id(number)
        if case_id is None:
            return self._console.pages.refusal(visit.staff, 404, "没有这件案件。")
        if not text:
            return self._back(number, "empty")
        desk = self._console.deps.desk
        if action == "close":
            change = await desk.close(case_id, visit.staff.member, text)
            done = "closed"
        else:
            change = await desk.add_note(case_id, visit.staff.member, text)
            done = "noted"
        return self._back(number, done if change.outcome == ChangeOutcome.DONE else change.outcome)

    async def note(self, visit: StaffRequest) -> Response:
        return await self._write(visit, "note", "note")

    async def close(self, visit: StaffRequest) -> Response:
        return await self._write(visit, "outcome", "close")

    def routes(self) -> list[ConsoleRoute]:
        case_path = "/console/cases/{number:str}"
        return [
            ConsoleRoute("/console/cases", self.inbox, CASEWORK),
            ConsoleRoute("/console/cases/feed", self.feed, CASEWORK, api=True),
            ConsoleRoute(case_path, self.show, CASEWORK),
            ConsoleRoute(f"{case_path}/reveal", self.reveal, CASEWORK, ("POST",)),
            ConsoleRoute(f"{case_path}/claim", self.claim, CASEWORK, ("POST",)),
            ConsoleRoute(f"{case_path}/note", self.note, CASEWORK, ("POST",)),
            ConsoleRoute(f"{case_path}/close", self.close, CASEWORK, ("POST",)),
        ]
