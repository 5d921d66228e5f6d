"""The knowledge base as the bot runs it: policy files imported into storage, the matcher built from it."""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text
from sqlmodel import Session

from bot.feature_cache import (
    FeatureCaches,
    SqlFeatureCache,
    code_fingerprint,
    read_bundled_features,
)
from bot.storage.repositories.documents import ImportOutcome, import_document, load_knowledge
from bot.storage.repositories.knowledge_additions import current_revision, load_additions
from knowledge.additions import matcher_with
from knowledge.curation import Curation, load_curation
from knowledge.document import Document
from knowledge.index import FeatureCache
from knowledge.lexicon import bundled_data_path, load_lexicon
from knowledge.manifest import MANIFEST_NAME, manifest_meta
from knowledge.match import Matcher
from knowledge.parser import parse_file

BUNDLED_PLAN = "tianjin-2023-county-migrant-plan.txt"
# The rights library: national laws as Markdown, with their MANIFEST.md, beside the plan.
BUNDLED_LAWS = "laws"
CURATION_SUFFIX = ".curated.toml"
# Any fixed number, distinct from the schema's and the rounds' advisory locks.
IMPORT_LOCK_KEY = 6_079_191_303


@dataclass(frozen=True, slots=True)
class ImportReport:
    document: Document
    curated: int
    outcome: ImportOutcome


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a build allocates its hundreds of thousands of small,
    long-lived objects (postings, features, parsed clauses): as the heap grows it would walk all
    of them several times over, a third of the index build's time. Afterwards they join the
    oldest generation at once (freeze, then unfreeze: no walk now, none for a question later);
    the collector is back as it was."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def curation_path_for(source: Path) -> Path | None:
    """The reviewed curated file for a source: beside it, else the bundled one of the same name."""
    for candidate in (
        source.with_name(source.stem + CURATION_SUFFIX),
        bundled_data_path(source.stem + CURATION_SUFFIX),
    ):
        if candidate.is_file():
            return candidate
    return None


def read_source(source: Path) -> tuple[Document, Curation | None]:
    """Parse a policy file and validate its curated layer (ParseError / CurationError on bad input)."""
    document = parse_file(source)
    listed = manifest_meta(source)
    if listed:
        document = dataclasses.replace(document, meta={**document.meta, **listed})
    curation_path = curation_path_for(source)
    curation = load_curation(curation_path, document) if curation_path else None
    return document, curation


def import_source(source: Path, *, session: Session, commit: bool = True) -> ImportReport:
    document, curation = read_source(source)
    outcome = import_document(document, curation, session=session)
    if commit:
        session.commit()
    curated = len(curation.clauses) if curation else 0
    return ImportReport(document, curated, outcome)


def bundled_sources() -> list[Path]:
    """The plan, then the laws in file-name order."""
    laws = sorted(
        path for path in bundled_data_path(BUNDLED_LAWS).glob("*.md") if path.name != MANIFEST_NAME
    )
    return [bundled_data_path(BUNDLED_PLAN), *laws]


def import_startup_sources(engine: Engine, extra_sources: list[Path]) -> list[ImportReport]:
    """The bundled library (first start, or a newer bundled text) and any configured sources.

    Several processes starting at once on a fresh database would each find the documents missing
    and insert them twice: the first to start imports under a database-wide lock (an advisory lock
    on PostgreSQL, the writer lock on SQLite) and the others wait, then find everything unchanged.
    """
    with Session(engine) as session:
        if engine.dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK_KEY})
        else:
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")
        reports = [
            import_source(source, session=session, commit=False)
            for source in [*bundled_sources(), *extra_sources]
        ]
        session.commit()
        return reports


def build_knowledge(
    engine: Engine,
    *,
    curated: frozenset[str] | None = None,
    feature_cache: FeatureCache | None = None,
) -> tuple[int, Matcher]:
    """The index over everything imported plus the curators' additions, and the additions'
    revision it was built at (read in the same transaction, so the two agree).

    `curated` keeps the curated layer of those documents only (the evaluation's measure of how
    documents nobody curated are answered); None keeps every document's. `feature_cache` is
    where clause features are looked up and kept: by default the shipped ones, then the database.
    """
    with collector_paused():
        with Session(engine) as session:
            knowledge = load_knowledge(session=session)
            additions = load_additions(session=session)
            revision = current_revision(session=session)
        if curated is not None:
            knowledge = [(doc, cur if doc.key in curated else None) for doc, cur in knowledge]
        if feature_cache is None:
            feature_cache = FeatureCaches(
                SqlFeatureCache(engine), read_bundled_features(), code=code_fingerprint()
            )
        matcher = matcher_with(knowledge, load_lexicon(), additions, feature_cache=feature_cache)
    return revision, matcher


def build_matcher(engine: Engine, *, curated: frozenset[str] | None = None) -> Matcher:
    """The index over everything imported (with the curators' additions); built once per
    process, and again when curators add phrases or synonyms."""
    return build_knowledge(engine, curated=curated)[1]
