"""Spreadsheets of job postings, written in the tests (openpyxl and csv), and a clock to drive."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

from bot.campaigns.job_sheet import HEADER

WELDER = ["XQ-001", "电焊工", "天津某钢构有限公司", "西青区", "张家窝工业园", "电焊工",
          "6000", "8000", "月", "白班", "包吃住", "022-12345678", "2099-03-31", "西青区人社局"]  # fmt: skip
CLEANER = ["JN-002", "保洁员", "某物业公司", "津南区", "咸水沽", "保洁",
           "150", "180", "日", "", "", "", "2099-03-31", "津南区人社局"]  # fmt: skip


def row(base: Sequence[str], **changes: str) -> list[str]:
    values = dict(zip(HEADER, base, strict=True))
    values.update(changes)
    return [values[name] for name in HEADER]


def write_xlsx(path: Path, rows: Sequence[Sequence[str | float]]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(HEADER))
    for values in rows:
        sheet.append(list(values))
    workbook.save(path)
    return path


def write_csv(path: Path, rows: Sequence[Sequence[str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


@dataclass
class Clock:
    """The time the digests go by, moved by the test."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now
