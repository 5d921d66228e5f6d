"""The curated layer: reviewed plain-language explanations, topics and workers' words per clause."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from knowledge.document import Document

Topic = Literal[
    "employment",
    "skills",
    "rights",
    "social_insurance",
    "legal_aid",
    "settlement",
    "schooling",
    "housing",
    "public_services",
    "campaign",
    "about_plan",
    "wages",
    "contract",
    "dismissal",
    "working_hours",
    "work_injury",
    "arbitration",
    "residence_permit",
]
TOPICS: tuple[Topic, ...] = get_args(Topic)
# The laws' finer topics under the plan's: what Tianjin promises on the same matter.
TOPIC_FAMILY: Mapping[str, str] = {
    "wages": "rights",
    "contract": "rights",
    "dismissal": "rights",
    "working_hours": "rights",
    "arbitration": "rights",
    "work_injury": "social_insurance",
    "residence_permit": "settlement",
}


def topic_family(topic: str | None) -> str | None:
    return TOPIC_FAMILY.get(topic, topic) if topic else None


PUBLIC_HOTLINES: Mapping[str, str] = {
    "12333": "人社服务热线",
    "12351": "工会职工服务热线",
    "12348": "公共法律服务热线",
    "12345": "政务服务便民热线",
}


@dataclass(frozen=True, slots=True)
class CuratedClause:
    """What a worker should hear about one clause, reviewed against its text."""

    clause_id: str
    title: str
    topic: Topic
    summary: str
    next_steps: str
    ask: str
    hotlines: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    no_figure: str = ""


@dataclass(frozen=True, slots=True)
class Curation:
    """The curated layer of one document."""

    document_key: str
    short_title: str
    clauses: Mapping[str, CuratedClause]


class CurationError(ValueError):
    """A curated file that does not fit its document."""


def _text(entry: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str):
        raise CurationError(f"{where}: '{key}' must be text")
    value = value.strip()
    if required and not value:
        raise CurationError(f"{where}: '{key}' is empty")
    return value


def _texts(entry: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    values = entry.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
        raise CurationError(f"{where}: '{key}' must be a list of non-empty texts")
    return tuple(v.strip() for v in values)


def parse_curation(data: Mapping[str, Any], document: Document) -> Curation:
    """Validate a curated mapping against its document; unknown ids and empty texts are errors."""
    header = data.get("document", {})
    key = _text(header, "key", "[document]")
    if key != document.key:
        raise CurationError(f"[document] key '{key}' does not match document '{document.key}'")
    short_title = _text(header, "short_title", "[document]")
    known_ids = set(document.clause_ids)
    clauses: dict[str, CuratedClause] = {}
    for clause_id, entry in data.get("clauses", {}).items():
        where = f'[clauses."{clause_id}"]'
        if clause_id not in known_ids:
            raise CurationError(f"{where}: no clause '{clause_id}' in {document.key}")
        topic_name = _text(entry, "topic", where)
        topic = next((t for t in TOPICS if t == topic_name), None)
        if topic is None:
            raise CurationError(f"{where}: unknown topic '{topic_name}'")
        hotlines = _texts(entry, "hotlines", where)
        for hotline in hotlines:
            if hotline not in PUBLIC_HOTLINES:
                raise CurationError(f"{where}: '{hotline}' is not a known public hotline")
        clauses[clause_id] = CuratedClause(
            clause_id=clause_id,
            title=_text(entry, "title", where),
            topic=topic,
            summary=_text(entry, "summary", where),
            next_steps=_text(entry, "next_steps", where),
            ask=_text(entry, "ask", where),
            hotlines=hotlines,
            phrases=_texts(entry, "phrases", where),
            no_figure=_text(entry, "no_figure", where, required=False),
        )
    return Curation(document_key=key, short_title=short_title, clauses=clauses)


def load_curation(path: Path, document: Document) -> Curation:
    """Read and validate a curated TOML file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise CurationError(f"{path}: {error}") from error
    return parse_curation(data, document)
