"""Curators' additions join the knowledge as if they were in the curated files."""

from __future__ import annotations

import pytest

from knowledge.additions import (
    AdditionError,
    Additions,
    check_synonym,
    clean_addition,
    matcher_with,
    with_phrases,
    with_synonyms,
)
from knowledge.curation import Curation, load_curation
from knowledge.document import Document
from knowledge.lexicon import bundled_data_path, load_lexicon
from knowledge.parser import parse_file
from tests.conftest import PLAN

Knowledge = list[tuple[Document, Curation | None]]


@pytest.fixture(scope="module")
def plan() -> Knowledge:
    document = parse_file(bundled_data_path(f"{PLAN}.txt"))
    return [(document, load_curation(bundled_data_path(f"{PLAN}.curated.toml"), document))]


def test_a_phrase_is_appended_to_its_clause_once(plan: Knowledge) -> None:
    additions = Additions(phrases={(PLAN, "2.2.2"): ("学开挖掘机", "学开挖掘机")})
    ((_document, curation),) = with_phrases(plan, additions)
    assert curation is not None
    phrases = curation.clauses["2.2.2"].phrases
    assert phrases[-1] == "学开挖掘机" and phrases.count("学开挖掘机") == 1
    original = plan[0][1]
    assert curation is not None and original is not None
    assert curation.clauses["2.2.1"] == original.clauses["2.2.1"]


def test_a_synonym_joins_without_overriding_the_lexicon() -> None:
    lexicon = load_lexicon()
    added = with_synonyms(lexicon, Additions(synonyms={"挖机学校": "技工学校", "找工作": "工伤"}))
    assert added.synonyms["挖机学校"] == "技工学校"
    assert added.synonyms["找工作"] == "就业"  # the reviewed file's mapping stays


def test_clashing_or_empty_synonyms_are_refused() -> None:
    lexicon = load_lexicon()
    with pytest.raises(AdditionError, match="就业"):
        check_synonym("找工作", "工伤", lexicon)
    with pytest.raises(AdditionError):
        check_synonym("工伤", "工伤", lexicon)
    check_synonym("挖机学校", "技工学校", lexicon)


def test_additions_are_cleaned() -> None:
    assert clean_addition("  学开  挖掘机 ") == "学开 挖掘机"
    assert clean_addition("JOB Fair") == "job fair"
    for bad in ("a", "字" * 41):
        with pytest.raises(AdditionError):
            clean_addition(bad)


def test_the_matcher_with_a_phrase_answers_the_question(plan: Knowledge) -> None:
    lexicon = load_lexicon()
    assert matcher_with(plan, lexicon, Additions()).match("学开挖掘机").best is None
    added = matcher_with(plan, lexicon, Additions(phrases={(PLAN, "2.2.2"): ("学开挖掘机",)}))
    best = added.match("学开挖掘机").best
    assert best is not None and best.entry.clause.id == "2.2.2"
