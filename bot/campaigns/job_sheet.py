"""Reading a job-posting spreadsheet (.xlsx or .csv): the exact header, every row checked, and
every bad row reported by its line with the reason — so a file imports whole or not at all."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from bot.storage.repositories.job_postings import PostingRow
from handlers.cases import DISTRICTS
from knowledge.jobs import PAY_UNITS, JobTables

HEADER = (
    "岗位编号", "岗位名称", "用人单位", "所在区", "工作地址", "工种", "薪资下限", "薪资上限",
    "薪资单位", "班次", "食宿", "联系电话", "有效期至", "来源",
)  # fmt: skip
REQUIRED = (
    "岗位编号",
    "岗位名称",
    "用人单位",
    "所在区",
    "工种",
    "薪资下限",
    "薪资单位",
    "有效期至",
    "来源",
)
MAX_CELL_CHARS = 200
_PHONE = re.compile(r"^[0-9+\-() ]{5,20}$")


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int  # the spreadsheet's line number (the header is line 1)
    reason: str


@dataclass(frozen=True, slots=True)
class SheetResult:
    rows: list[PostingRow]
    problems: list[RowProblem]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_cells(path: Path) -> list[list[str]]:
    """The file's lines as text cells (the first sheet of a workbook)."""
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return [[cell.strip() for cell in line] for line in csv.reader(handle)]
    if path.suffix.lower() != ".xlsx":
        raise ValueError("只能导入 .xlsx 或 .csv 文件")
    # openpyxl (and the Pillow it loads) only for a workbook: every `policybot` command imports this.
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        return [[_text(cell) for cell in line] for line in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def district_of(text: str) -> str | None:
    """一个天津的区: 西青区, 西青 or 滨海."""
    for district in DISTRICTS:
        if text in (district, district.removesuffix("区"), district.removesuffix("新区")):
            return district
    return None


def _amount(text: str, name: str) -> float:
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        raise ValueError(f"{name}“{text}”不是数字") from None
    if value <= 0 or value > 1_000_000:
        raise ValueError(f"{name}“{text}”不在合理范围")
    return value


def check_row(cells: Sequence[str], tables: JobTables) -> PostingRow:
    """One row as a posting, or ValueError with the reason (in Chinese, for the organiser)."""
    values = dict(zip(HEADER, [*cells, *[""] * len(HEADER)], strict=False))
    for name in REQUIRED:
        if not values[name]:
            raise ValueError(f"{name}是空的")
    for name, value in values.items():
        if len(value) > MAX_CELL_CHARS:
            raise ValueError(f"{name}太长（最多{MAX_CELL_CHARS}字）")
    district = district_of(values["所在区"])
    if district is None:
        raise ValueError(f"所在区“{values['所在区']}”不是天津的区")
    if values["薪资单位"] not in PAY_UNITS:
        raise ValueError(f"薪资单位“{values['薪资单位']}”应是 月、日 或 小时")
    pay_min = _amount(values["薪资下限"], "薪资下限")
    pay_max = _amount(values["薪资上限"], "薪资上限") if values["薪资上限"] else pay_min
    if pay_max < pay_min:
        raise ValueError("薪资上限小于薪资下限")
    try:
        valid_until = date.fromisoformat(values["有效期至"])
    except ValueError:
        raise ValueError(f"有效期至“{values['有效期至']}”应写成 2027-03-31") from None
    if values["联系电话"] and not _PHONE.match(values["联系电话"]):
        raise ValueError(f"联系电话“{values['联系电话']}”不像电话号码")
    return PostingRow(
        code=values["岗位编号"],
        title=values["岗位名称"],
        employer=values["用人单位"],
        district=district,
        address=values["工作地址"],
        trade=values["工种"],
        trade_key=tables.trade_of(values["工种"]),
        pay_min=pay_min,
        pay_max=pay_max,
        pay_unit=values["薪资单位"],
        shift=values["班次"],
        board=values["食宿"],
        phone=values["联系电话"],
        valid_until=valid_until,
        source=values["来源"],
    )


def check_sheet(lines: Iterable[Sequence[str]], tables: JobTables) -> SheetResult:
    """Every row checked; a duplicate 岗位编号 within the file is a problem too."""
    lines = list(lines)
    if not lines or tuple(cell for cell in lines[0] if cell) != HEADER:
        return SheetResult([], [RowProblem(1, "表头应是：" + ",".join(HEADER))])
    rows: list[PostingRow] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for number, cells in enumerate(lines[1:], start=2):
        if not any(cells):
            continue  # blank lines at the end of a sheet
        try:
            row = check_row(cells, tables)
        except ValueError as error:
            problems.append(RowProblem(number, str(error)))
            continue
        if row.code in seen:
            problems.append(RowProblem(number, f"岗位编号 {row.code} 和第{seen[row.code]}行重复"))
            continue
        seen[row.code] = number
        rows.append(row)
    return SheetResult(rows, problems)
