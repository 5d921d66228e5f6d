"""The index's start-up cache: a first start finds every bundled clause's features shipped, and
no cache ever answers for texts, additions or feature code that changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from bot.feature_cache import (
    REBUILD_COMMAND,
    FeatureCaches,
    SqlFeatureCache,
    code_fingerprint,
    read_bundled_features,
    salted,
)
from bot.knowledge_base import build_knowledge, import_source, import_startup_sources
from bot.storage.engine import run_transaction
from bot.storage.models import ClauseFeaturesRecord
from bot.storage.repositories.clause_features import cached_features, store_features
from bot.storage.repositories.knowledge_additions import add_phrase
from knowledge.lexicon import bundled_data_path
from tests.bot.server_harness import engine_in

LAW = "labor-contract-law-2012"
ARTICLE = "art82"
# A word no bundled text has: found in an index only if that clause's new text was cut.
NEW_WORD = "wombat"


def stored_rows(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(ClauseFeaturesRecord)).one()


@pytest.fixture
def library(tmp_path: Path) -> Engine:
    """A database after a first start's import of the bundled library."""
    engine = engine_in(tmp_path)
    import_startup_sources(engine, [])
    return engine


def test_a_first_start_finds_every_bundled_clause_shipped(library: Engine) -> None:
    build_knowledge(library)
    tokenised = stored_rows(library)
    assert tokenised == 0, (
        f"{tokenised} clause texts of the bundled library are not in bot/bundled_features.json.gz"
        f" (texts, curated files, lexicon or feature code changed): run `{REBUILD_COMMAND}`"
    )


def test_an_imported_new_text_is_cut_anew(library: Engine, tmp_path: Path) -> None:
    build_knowledge(library)
    source = bundled_data_path(f"laws/{LAW}.md")
    text = source.read_text(encoding="utf-8")
    changed = tmp_path / source.name
    changed.write_text(
        text.replace("应当向劳动者每月支付二倍的工资", f"应当{NEW_WORD}"), encoding="utf-8"
    )
    with Session(library) as session:
        import_source(changed, session=session)
    _, matcher = build_knowledge(library)
    position = matcher.index.positions[(LAW, ARTICLE)]
    assert NEW_WORD in matcher.index.features[position]
    assert stored_rows(library) >= 1  # the changed clause's features, kept for the next start


def test_a_curators_phrase_is_cut_into_its_clause(library: Engine) -> None:
    run_transaction(
        library,
        lambda s: add_phrase(LAW, ARTICLE, f"{NEW_WORD}怎么办", added_by="curator", session=s),
    )
    _, matcher = build_knowledge(library)
    position = matcher.index.positions[(LAW, ARTICLE)]
    assert NEW_WORD in matcher.index.features[position]


def test_features_cut_by_other_code_are_not_used(library: Engine) -> None:
    """Shipped and stored features were cut by this code; a build under another code's
    fingerprint finds none of them and cuts every text itself."""
    _, matcher = build_knowledge(library)
    shipped = read_bundled_features()
    caches = FeatureCaches(SqlFeatureCache(library), shipped, code="other code")
    _, rebuilt = build_knowledge(library, feature_cache=caches)
    assert stored_rows(library) == len(shipped)  # every distinct text cut and stored again
    assert rebuilt.index.features == matcher.index.features


def test_the_code_fingerprint_follows_the_source_files(tmp_path: Path) -> None:
    source = tmp_path / "index.py"
    source.write_text("WEIGHT = 1.0\n", encoding="utf-8")
    before = code_fingerprint([source])
    source.write_text("WEIGHT = 2.0\n", encoding="utf-8")
    assert code_fingerprint([source]) != before
    assert code_fingerprint() != before


def test_a_salted_key_differs_per_code() -> None:
    assert salted("key", "code a") != salted("key", "code b")


def test_stored_features_stay_as_first_stored(engine: Engine) -> None:
    run_transaction(engine, lambda s: store_features({"a": {"工资": 1.0}}, session=s))
    run_transaction(
        engine, lambda s: store_features({"a": {"工资": 9.0}, "b": {"合同": 2.0}}, session=s)
    )
    found = run_transaction(engine, lambda s: cached_features(["a", "b", "c"], session=s))
    assert found == {"a": {"工资": 1.0}, "b": {"合同": 2.0}}
