"""Exports are opened in Excel: no cell a worker or staff member typed is read as a formula."""

from __future__ import annotations

import csv
import io

import pytest

from bot.spreadsheet import safe_cell, write_csv


@pytest.mark.parametrize(
    "typed",
    ['=HYPERLINK("http://evil.example","点这里")', "+1+2", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1"],
)
def test_a_cell_that_would_be_a_formula_is_text(typed: str) -> None:
    assert safe_cell(typed) == "'" + typed


@pytest.mark.parametrize("typed", ["某某建筑公司", "138****5678", "LA-20270115-0007", "", "a=b"])
def test_ordinary_cells_are_left_alone(typed: str) -> None:
    assert safe_cell(typed) == typed


def test_every_cell_is_quoted_so_a_separator_inside_stays_inside() -> None:
    output = io.StringIO()
    write_csv(output, ("employer", "description"), [('x",=1+1', "a,@b")])
    assert output.getvalue().splitlines()[1] == '"x"",=1+1","a,@b"'
    (row,) = list(csv.reader(io.StringIO(output.getvalue())))[1:]
    assert row == ['x",=1+1', "a,@b"]
