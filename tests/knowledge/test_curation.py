"""The curated layer and the lexicon: reviewed data that must fit the plan, or be refused."""

from __future__ import annotations

import re
from typing import Any

import pytest

from knowledge.curation import PUBLIC_HOTLINES, CurationError, load_curation, parse_curation
from knowledge.document import Document
from knowledge.lexicon import bundled_data_path, load_lexicon, parse_patterns, parse_synonyms
from knowledge.parser import parse_file

PLAN = "tianjin-2023-county-migrant-plan"


@pytest.fixture(scope="module")
def plan() -> Document:
    return parse_file(bundled_data_path(f"{PLAN}.txt"))


def entry(**overrides: Any) -> dict[str, Any]:
    base = {
        "title": "标题",
        "topic": "rights",
        "summary": "说明",
        "next_steps": "下一步",
        "ask": "区人社局",
        "hotlines": ["12333"],
        "phrases": ["欠薪"],
    }
    return base | overrides


def curated(clauses: dict[str, Any]) -> dict[str, Any]:
    return {"document": {"key": PLAN, "short_title": "实施方案"}, "clauses": clauses}


def test_the_bundled_curation_covers_every_clause(plan: Document) -> None:
    curation = load_curation(bundled_data_path(f"{PLAN}.curated.toml"), plan)
    assert set(curation.clauses) == set(plan.clause_ids)
    assert curation.short_title == "实施方案"


def test_bundled_curation_uses_only_public_hotlines_and_mentions_no_other_numbers(
    plan: Document,
) -> None:
    curation = load_curation(bundled_data_path(f"{PLAN}.curated.toml"), plan)
    for clause in curation.clauses.values():
        assert set(clause.hotlines) <= set(PUBLIC_HOTLINES)
        for text in (clause.summary, clause.next_steps, clause.ask, clause.no_figure):
            for number in re.findall(r"\d{5,}", text):
                assert number in PUBLIC_HOTLINES, (clause.clause_id, number)


def test_unknown_clause_ids_are_refused(plan: Document) -> None:
    with pytest.raises(CurationError, match=r"9\.9\.9"):
        parse_curation(curated({"9.9.9": entry()}), plan)


@pytest.mark.parametrize("field", ["title", "summary", "next_steps", "ask"])
def test_empty_texts_are_refused(plan: Document, field: str) -> None:
    with pytest.raises(CurationError, match=field):
        parse_curation(curated({"2.3.3": entry(**{field: "  "})}), plan)


def test_unknown_topics_and_made_up_hotlines_are_refused(plan: Document) -> None:
    with pytest.raises(CurationError, match="topic"):
        parse_curation(curated({"2.3.3": entry(topic="weather")}), plan)
    with pytest.raises(CurationError, match="12399"):
        parse_curation(curated({"2.3.3": entry(hotlines=["12399"])}), plan)


def test_a_curation_for_another_document_is_refused(plan: Document) -> None:
    data = curated({})
    data["document"]["key"] = "some-other-plan"
    with pytest.raises(CurationError, match="does not match"):
        parse_curation(data, plan)


def test_synonyms_map_variants_to_their_term() -> None:
    mapping = parse_synonyms({"terms": {"拖欠工资": ["欠薪", "讨薪", "x"]}})
    assert mapping == {"拖欠工资": "拖欠工资", "欠薪": "拖欠工资", "讨薪": "拖欠工资"}


def test_bad_patterns_are_refused() -> None:
    with pytest.raises(ValueError, match="bad pattern"):
        parse_patterns({"patterns": {"工伤": ["(摔"]}})


def test_the_bundled_lexicon_loads() -> None:
    lexicon = load_lexicon()
    assert lexicon.synonyms["讨薪"] == "拖欠工资"
    assert lexicon.synonyms["户口"] == "落户"
    assert any(canonical == "工伤" for _, canonical in lexicon.patterns)
    assert "的" in lexicon.stopwords and len(lexicon.user_words) > 100
