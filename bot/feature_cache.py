"""The index's start-up cache: what each clause's texts were cut into, so a start tokenises only
what changed.

A clause's key (knowledge.index.feature_key) covers its indexed texts, the field weights and the
tokenizer's dictionary; here it is salted with the code that cuts texts into features, so an
edit of that code never meets features cut the old way. Two layers answer: the features of the
bundled library shipped in the package (a fresh clone's first start tokenises nothing), then
the database's table, which keeps what curators, imports and extra sources added.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Mapping, Sequence
from importlib.resources import files
from pathlib import Path

from sqlalchemy import Engine

import knowledge.index
import knowledge.tokenizer
from bot.storage.engine import run_transaction
from bot.storage.repositories.clause_features import (
    cached_features,
    drop_features_except,
    store_features,
)

Counts = Mapping[str, Mapping[str, float]]

# The modules whose code decides a clause's features: an edit of either changes every key.
FEATURE_CODE = (knowledge.index, knowledge.tokenizer)
BUNDLED_FEATURES = "bundled_features.json.gz"
REBUILD_COMMAND = ".venv/bin/python scripts/build_bundled_features.py"


def code_fingerprint(sources: Sequence[Path] | None = None) -> str:
    """A digest of the feature code's source files (by default, FEATURE_CODE's)."""
    paths = sources or [Path(str(module.__file__)) for module in FEATURE_CODE]
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
        digest.update(b"\x00")
    return digest.hexdigest()


def salted(key: str, code: str) -> str:
    return hashlib.sha256(f"{code}\x00{key}".encode()).hexdigest()


def bundled_features_path() -> Path:
    return Path(str(files("bot").joinpath(BUNDLED_FEATURES)))


def read_bundled_features(path: Path | None = None) -> dict[str, dict[str, float]]:
    """The shipped features by salted key; none when the file is missing."""
    path = path or bundled_features_path()
    if not path.is_file():
        return {}
    loaded: dict[str, dict[str, float]] = json.loads(gzip.decompress(path.read_bytes()))
    return loaded


def write_bundled_features(counts: Counts, path: Path | None = None) -> None:
    """Sorted, compact and without a timestamp: the same features give the same bytes."""
    text = json.dumps(
        {key: dict(counts[key]) for key in sorted(counts)},
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
    )
    (path or bundled_features_path()).write_bytes(gzip.compress(text.encode(), mtime=0))


class SqlFeatureCache:
    """Features in the database, so every process and restart shares them."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get_many(self, keys: Sequence[str]) -> Counts:
        found = run_transaction(self._engine, lambda s: cached_features(keys, session=s))
        if len(found) < len(keys):
            # Texts changed: what the old texts were cut into is of no further use.
            run_transaction(self._engine, lambda s: drop_features_except(keys, session=s))
        return found

    def put_many(self, counts: Counts) -> None:
        run_transaction(self._engine, lambda s: store_features(counts, session=s))


class FeatureCaches:
    """`knowledge.index.FeatureCache` over the shipped features, then the database's."""

    def __init__(self, stored: SqlFeatureCache, bundled: Counts, *, code: str) -> None:
        self._stored = stored
        self._bundled = bundled
        self._code = code

    def get_many(self, keys: Sequence[str]) -> Counts:
        by_salted = {salted(key, self._code): key for key in keys}
        found = {by_salted[s]: self._bundled[s] for s in by_salted if s in self._bundled}
        rest = [s for s in by_salted if s not in self._bundled]
        stored = self._stored.get_many(rest) if rest else {}
        found.update((by_salted[s], counts) for s, counts in stored.items())
        return found

    def put_many(self, counts: Counts) -> None:
        self._stored.put_many({salted(key, self._code): value for key, value in counts.items()})


class RecordingCache:
    """A cache that knows nothing and keeps what it is given: how the shipped file is made."""

    def __init__(self, code: str) -> None:
        self._code = code
        self.recorded: dict[str, Mapping[str, float]] = {}

    def get_many(self, keys: Sequence[str]) -> Counts:
        return {}

    def put_many(self, counts: Counts) -> None:
        self.recorded.update((salted(key, self._code), value) for key, value in counts.items())
