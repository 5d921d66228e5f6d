"""The bundled knowledge base, built once for the matching tests."""

from __future__ import annotations

import pytest

from knowledge.curation import load_curation
from knowledge.lexicon import bundled_data_path, load_lexicon
from knowledge.match import Matcher
from knowledge.parser import parse_file

PLAN = "tianjin-2023-county-migrant-plan"


@pytest.fixture(scope="session")
def plan_matcher() -> Matcher:
    document = parse_file(bundled_data_path(f"{PLAN}.txt"))
    curation = load_curation(bundled_data_path(f"{PLAN}.curated.toml"), document)
    return Matcher([(document, curation)], load_lexicon())
