"""Tables to download: the cases as CSV and Excel (phones masked unless an admin asks), the
figures and the audit log as CSV. Every text cell is neutralised against formula injection
(OWASP: a cell starting with = + - @ tab or carriage return gets a leading apostrophe), so a
worker who typed `=HYPERLINK(…)` as their employer cannot make the union's spreadsheet run it."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from openpyxl import Workbook

from bot.console.pages import STATUS_LABELS, beijing
from bot.storage.models import LegalAidCase
from handlers.cases import CATEGORIES
from handlers.phone import masked

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
Cell = str | int | float

CASE_COLUMNS: tuple[str, ...] = (
    "案件编号", "提交时间", "类型", "区", "电话", "单位", "经过", "状态", "接单人", "接单时间",
    "结案人", "结案时间", "结果", "备注", "来源", "同意隐私说明时间", "隐私说明版本", "个人信息已删除",
)  # fmt: skip
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise_cell(value: Cell) -> Cell:
    """A text cell a spreadsheet would read as a formula, made plain text; numbers unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def case_row(record: LegalAidCase, *, full_phone: bool) -> tuple[str, ...]:
    phone = (record.phone or "") if full_phone else (masked(record.phone) if record.phone else "")
    notes = " | ".join(f"{note['author']}: {note['text']}" for note in record.notes)
    return (
        record.number, beijing(record.created_at),
        CATEGORIES.get(record.category, record.category), record.district, phone,
        record.employer or "", record.description or "",
        STATUS_LABELS.get(record.status, record.status), record.claimed_by or "",
        beijing(record.claimed_at), record.closed_by or "", beijing(record.closed_at),
        record.outcome or "", notes, record.source or "", beijing(record.consent_at),
        record.consent_version, "是" if record.anonymised_at else "",
    )  # fmt: skip


def table_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """UTF-8 with a BOM, so Excel opens the Chinese correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise_cell(title) for title in header])
    for row in rows:
        writer.writerow([neutralise_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def table_xlsx(title: str, header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook has one sheet
    sheet.title = title
    sheet.append(list(header))
    for row in rows:
        sheet.append([neutralise_cell(value) for value in row])
    # Text stays text even where openpyxl would guess a formula (it does for a leading =).
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def cases_csv(records: Iterable[LegalAidCase], *, full_phone: bool) -> bytes:
    return table_csv(CASE_COLUMNS, (case_row(r, full_phone=full_phone) for r in records))


def cases_xlsx(records: Iterable[LegalAidCase], *, full_phone: bool) -> bytes:
    return table_xlsx(
        "法律援助", CASE_COLUMNS, (case_row(r, full_phone=full_phone) for r in records)
    )
