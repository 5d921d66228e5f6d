"""Matching postings to wishes: trade synonyms, neighbouring districts, pay per month."""

from __future__ import annotations

from datetime import UTC, datetime

from knowledge.jobs import JobPreferences, PostingFacts, best_matches, load_job_tables

TABLES = load_job_tables()
WHEN = datetime(2027, 3, 1, tzinfo=UTC)


def posting(
    id_: int, district: str, trade: str, pay: float = 6000, unit: str = "月"
) -> PostingFacts:
    return PostingFacts(id_, district, TABLES.trade_of(trade), pay, unit, WHEN)


def test_welders_words_name_one_trade() -> None:
    assert {TABLES.trade_of(w) for w in ("焊工", "电焊", "电焊工")} == {"焊工"}
    assert TABLES.trades_in("想干电焊工或者电工") == ("焊工", "电工")


def test_neighbours_read_both_ways() -> None:
    assert "津南区" in TABLES.nearby("西青区") and "西青区" in TABLES.nearby("津南区")


def test_chosen_district_first_then_next_door_never_far() -> None:
    wanted = JobPreferences(("西青区",), ("焊工",), 5000)
    found = best_matches(
        wanted,
        [
            posting(1, "津南区", "电焊工"),
            posting(2, "西青区", "电焊"),
            posting(3, "蓟州区", "焊工"),
        ],
        TABLES,
        limit=5,
    )
    assert [p.id for p in found] == [2, 1]


def test_pay_by_the_day_counts_as_a_month() -> None:
    wanted = JobPreferences((), (), 5000)
    by_day = posting(1, "西青区", "普工", 200, "日")  # 5,200 a month
    low = posting(2, "西青区", "普工", 150, "日")
    assert [p.id for p in best_matches(wanted, [by_day, low], TABLES, limit=5)] == [1]


def test_another_trade_never_matches() -> None:
    wanted = JobPreferences(("西青区",), ("焊工",), 0)
    assert best_matches(wanted, [posting(1, "西青区", "保洁员")], TABLES, limit=5) == []
