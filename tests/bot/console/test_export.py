"""导出: the filtered cases as CSV and Excel — masked phones unless an admin asks, text cells that
a spreadsheet would run as formulas neutralised, every export in the audit log."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, col, select

from bot.console.export import neutralise_cell, table_csv
from bot.console.roles import Role
from bot.storage.console_models import AuditEntry
from tests.bot.console.conftest import ConsoleServer, add_staff, sign_in, submit_case


@pytest.mark.parametrize("text", ["=1+1", "+86", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_formula_starts_are_neutralised(text: str) -> None:
    assert neutralise_cell(text) == "'" + text


def test_plain_text_and_numbers_are_left_alone() -> None:
    assert neutralise_cell("某某公司 = 老板") == "某某公司 = 老板"
    assert neutralise_cell(-3) == -3


def test_csv_opens_in_excel_as_utf8() -> None:
    body = table_csv(("区",), [("西青区",)])
    assert body.startswith("\ufeff".encode())
    assert body.decode("utf-8-sig").splitlines() == ["区", "西青区"]


async def export(console: ConsoleServer, csrf: str, **fields: str) -> bytes:
    response = await console.http.post("/console/cases/export", data={"csrf_token": csrf, **fields})
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"].startswith("attachment;")
    return response.content


def csv_rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


async def test_caseworkers_export_masked_phones_even_when_asking_for_full(
    console: ConsoleServer,
) -> None:
    add_staff(console.engine, "li", Role.CASEWORKER)
    await submit_case(console.app, employer='=HYPERLINK("http://evil")')
    csrf = await sign_in(console.http, "li")
    header, row = csv_rows(await export(console, csrf, format="csv", full_phone="1"))
    assert row[header.index("电话")] == "138****5678"
    assert row[header.index("单位")] == '\'=HYPERLINK("http://evil")'


async def test_an_admin_may_export_full_numbers_as_excel(console: ConsoleServer) -> None:
    add_staff(console.engine, "boss", Role.ADMIN)
    await submit_case(console.app, employer="=1+1")
    await submit_case(console.app, category="injury")
    csrf = await sign_in(console.http, "boss")
    body = await export(console, csrf, format="xlsx", full_phone="1", category="wages")
    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet is not None
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 1  # the filter holds
    (row,) = rows
    assert row[header.index("电话")] == "13812345678"
    assert row[header.index("单位")] == "'=1+1"
    cell = sheet.cell(row=2, column=header.index("单位") + 1)
    assert cell.data_type == "s"  # text, not a formula


async def test_an_admin_export_without_asking_is_masked(console: ConsoleServer) -> None:
    add_staff(console.engine, "boss", Role.ADMIN)
    await submit_case(console.app)
    csrf = await sign_in(console.http, "boss")
    header, row = csv_rows(await export(console, csrf, format="csv"))
    assert row[header.index("电话")] == "138****5678"


async def test_every_export_is_audited_with_its_filters(console: ConsoleServer) -> None:
    add_staff(console.engine, "boss", Role.ADMIN)
    await submit_case(console.app)
    csrf = await sign_in(console.http, "boss")
    await export(console, csrf, format="xlsx", full_phone="1", district="西青区")
    with Session(console.engine) as session:
        entry = session.exec(select(AuditEntry).where(col(AuditEntry.action) == "export")).one()
    detail = json.loads(entry.detail)
    assert detail == {
        "filters": {"district": "西青区"},
        "format": "xlsx",
        "full_phone": True,
        "rows": 1,
    }
    assert entry.actor_name == "boss"
