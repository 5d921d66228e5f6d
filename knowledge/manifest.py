"""A library's MANIFEST.md: each document's short title, issuer and dates, by file stem.

The table's columns, in order: file stem | full title | short title | issued by / number |
adopted or promulgated | last revision | in force from. A dash means none; a cell may add words
after its date ("2008-01-01 (revision 2013-07-01)"): the first ISO date is the one kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

MANIFEST_NAME = "MANIFEST.md"
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_COLUMNS = ("key", "title", "short_title", "issuer", "adopted", "revised", "effective")
_DATE_COLUMNS = frozenset({"adopted", "revised", "effective"})


def parse_manifest(lines: Iterable[str]) -> dict[str, dict[str, str]]:
    """Table rows → {stem: {short_title, issuer, adopted, revised, effective}} (empty cells left out)."""
    entries: dict[str, dict[str, str]] = {}
    for line in lines:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != len(_COLUMNS) or not re.fullmatch(r"[a-z0-9-]+", cells[0]):
            continue  # the header, its rule, prose
        meta: dict[str, str] = {}
        for column, cell in zip(_COLUMNS[1:], cells[1:], strict=True):
            if column in _DATE_COLUMNS:
                found = _ISO_DATE.search(cell)
                cell = found.group(0) if found else ""
            if cell and cell not in ("—", "-"):
                meta[column] = cell
        entries[cells[0]] = meta
    return entries


def manifest_meta(source: Path) -> Mapping[str, str]:
    """What the manifest beside a source file says about it; empty when there is none."""
    manifest = source.with_name(MANIFEST_NAME)
    if not manifest.is_file():
        return {}
    return parse_manifest(manifest.read_text(encoding="utf-8").splitlines()).get(source.stem, {})
