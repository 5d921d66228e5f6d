"""The policy domain's immutable types: a document and its numbered clauses."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

ClauseKind = Literal["preamble", "part", "section", "item", "chapter", "article"]
# National laws' full titles start with the state's name; workers cite them without it.
NATIONAL_PREFIX = "中华人民共和国"
CLAUSE_KINDS: tuple[ClauseKind, ...] = ("preamble", "part", "section", "item", "chapter", "article")


@dataclass(frozen=True, slots=True)
class Clause:
    """One numbered unit of a document: `2.3.3` is part 二, section (三), item 3."""

    id: str
    kind: ClauseKind
    title: str
    text: str
    departments: tuple[str, ...] = ()
    parent: str | None = None


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed policy text: its metadata and its clauses in reading order."""

    key: str
    title: str
    meta: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    clauses: tuple[Clause, ...] = ()

    def __post_init__(self) -> None:
        # Freeze the metadata so a shared Document can never be changed under a reader.
        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))

    def clause(self, clause_id: str) -> Clause | None:
        """The clause with this id, or None."""
        for clause in self.clauses:
            if clause.id == clause_id:
                return clause
        return None

    def children(self, clause_id: str) -> Iterator[Clause]:
        """The direct children of a clause, in reading order."""
        return (clause for clause in self.clauses if clause.parent == clause_id)

    @property
    def clause_ids(self) -> tuple[str, ...]:
        return tuple(clause.id for clause in self.clauses)

    @property
    def short_title(self) -> str:
        """How a citation names it: the manifest's short title, else 劳动合同法 for 中华人民共和国劳动合同法."""
        return self.meta.get("short_title") or self.title.removeprefix(NATIONAL_PREFIX)

    @property
    def version_date(self) -> str | None:
        return version_date(self.meta)


def version_date(meta: Mapping[str, str]) -> str | None:
    """The date of the text in force: its last revision, else its adoption or signature."""
    for key in ("revised", "adopted", "signed", "published"):
        if value := meta.get(key):
            return value
    return None


class ParseError(ValueError):
    """A text the parser cannot make sense of; the message is meant for the person who gave it."""
