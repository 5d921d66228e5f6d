"""`policybot kb export-additions`: the curators' additions (made in the console, kept in the
database) written into the curated data files — phrases into the clause's `phrases` list of its
`*.curated.toml`, synonyms into `synonyms.toml` — with the files' comments and layout kept
(tomlkit), so they can be reviewed as a diff and committed."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import Array, Table

from bot.knowledge_base import CURATION_SUFFIX
from bot.storage.console_models import KnowledgeAddition
from bot.storage.repositories.knowledge_additions import PHRASE, SYNONYM

SYNONYMS_FILE = "synonyms.toml"


@dataclass
class ExportReport:
    # addition ids written (or already there), per file
    written: dict[Path, list[int]] = field(default_factory=dict)
    # lines for the operator: additions that had nowhere to go
    skipped: list[str] = field(default_factory=list)

    @property
    def exported_ids(self) -> list[int]:
        return [i for ids in self.written.values() for i in ids]


def curated_files(data_dir: Path, extra_sources: Iterable[Path] = ()) -> dict[str, Path]:
    """Document key → its curated file, in the data directory (laws/ included) or beside a source."""
    found = {
        path.name.removesuffix(CURATION_SUFFIX): path
        for path in sorted(data_dir.rglob(f"*{CURATION_SUFFIX}"))
    }
    for source in extra_sources:
        beside = source.with_name(source.stem + CURATION_SUFFIX)
        if beside.is_file():
            found[source.stem] = beside
    return found


def _append(array: Any, value: str) -> bool:
    """Add `value` to a TOML array unless it is there; True when the file changes."""
    if value in [str(item) for item in array]:
        return False
    array.append(value)
    return True


def _add_phrase(document: tomlkit.TOMLDocument, clause_id: str, phrase: str) -> bool | None:
    clauses = document.get("clauses")
    entry = clauses.get(clause_id) if isinstance(clauses, Table) else None
    if not isinstance(entry, Table):
        return None  # the clause has no curated entry in this file
    phrases = entry.get("phrases")
    if not isinstance(phrases, Array):
        entry["phrases"] = [phrase]
        return True
    return _append(phrases, phrase)


def _add_synonym(document: tomlkit.TOMLDocument, variant: str, canonical: str) -> bool:
    terms = document.get("terms")
    if not isinstance(terms, Table):
        terms = tomlkit.table()
        document["terms"] = terms
    variants = terms.get(canonical)
    if isinstance(variants, Array):
        return _append(variants, variant)
    keys = list(terms.keys())
    try:
        # After the last term, not after the comment that introduces the next table.
        terms.value._insert_after(keys[-1], canonical, [variant])
    except (AttributeError, IndexError):  # an empty table, or a tomlkit without it
        terms[canonical] = [variant]
    return True


def export_additions(
    additions: Iterable[KnowledgeAddition],
    *,
    data_dir: Path,
    extra_sources: Iterable[Path] = (),
    dry_run: bool = False,
) -> ExportReport:
    files = curated_files(data_dir, extra_sources)
    documents: dict[Path, tomlkit.TOMLDocument] = {}
    changed: set[Path] = set()
    report = ExportReport()

    def load(path: Path) -> tomlkit.TOMLDocument:
        if path not in documents:
            documents[path] = tomlkit.parse(path.read_text(encoding="utf-8"))
        return documents[path]

    for addition in additions:
        assert addition.id is not None
        if addition.kind == PHRASE and addition.document_key and addition.clause_id:
            path = files.get(addition.document_key)
            outcome = _add_phrase(load(path), addition.clause_id, addition.text) if path else None
            if path is None or outcome is None:
                report.skipped.append(
                    f"{addition.document_key} {addition.clause_id}：找不到它的白话说明文件，"
                    f"说法“{addition.text}”没有写出"
                )
                continue
        elif addition.kind == SYNONYM and addition.canonical:
            path = data_dir / SYNONYMS_FILE
            if not path.is_file():
                report.skipped.append(f"没有 {path}，同义词“{addition.text}”没有写出")
                continue
            outcome = _add_synonym(load(path), addition.text, addition.canonical)
        else:
            continue
        if outcome:
            changed.add(path)
        report.written.setdefault(path, []).append(addition.id)
    for path in sorted(changed):
        text = tomlkit.dumps(documents[path])
        tomllib.loads(text)  # what we write must read back
        if not dry_run:
            path.write_text(text, encoding="utf-8")
    return report
