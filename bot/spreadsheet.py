"""Spreadsheet files people open in Excel or WPS (the union's records, the console's exports):
no cell of ours is ever read as a formula.

As OWASP's CSV Injection guidance says, a cell starting with = + - @, a tab or a carriage return
may be evaluated (`=HYPERLINK(…)`, DDE), and a worker or a staff member typed every text here. Such
a cell is prefixed with an apostrophe, which spreadsheets show as text, and every cell is quoted,
so a separator or quote inside one cannot start another.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from typing import TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_MARK = "'"


def safe_cell(value: str) -> str:
    """`value` as a cell no spreadsheet evaluates."""
    return TEXT_MARK + value if value.startswith(FORMULA_STARTS) else value


def write_csv(output: TextIO, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """A CSV file of `rows` under `header`, every cell safe and quoted."""
    writer = csv.writer(output, quoting=csv.QUOTE_ALL)
    writer.writerow([safe_cell(name) for name in header])
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
