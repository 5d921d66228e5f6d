"""Regenerate bot/bundled_features.json.gz: the clause features of the bundled library as a first
start indexes it, shipped so that a fresh clone's first start tokenises nothing.

    .venv/bin/python scripts/build_bundled_features.py

Run it after changing the bundled texts, their curated files, the lexicon or the feature code
(knowledge/index.py, knowledge/tokenizer.py); tests/bot/test_feature_cache.py fails until then.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.feature_cache import (
    RecordingCache,
    bundled_features_path,
    code_fingerprint,
    write_bundled_features,
)
from bot.knowledge_base import build_knowledge, import_startup_sources
from bot.storage.engine import create_engine_for
from bot.storage.schema import prepare_schema


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        engine = create_engine_for(f"sqlite:///{Path(directory) / 'features.db'}")
        prepare_schema(engine)
        import_startup_sources(engine, [])
        recording = RecordingCache(code_fingerprint())
        _, matcher = build_knowledge(engine, feature_cache=recording)
        engine.dispose()
    write_bundled_features(recording.recorded)
    path = bundled_features_path()
    print(
        f"{path}: features of {len(recording.recorded)} distinct texts "
        f"({len(matcher.entries)} clauses), {path.stat().st_size // 1024} KB"
    )


if __name__ == "__main__":
    main()
