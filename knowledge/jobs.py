"""Job postings matched to what a worker asked for: trades read through their synonyms, districts
with their neighbours, pay compared per month. Pure: the tables come from `data/trades.toml`."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from knowledge.lexicon import bundled_data_path

# A day's or an hour's pay as a month's, to compare with a monthly minimum: 26 working days of
# 8 hours (an estimate the worker is told about, not a legal figure).
MONTHLY_FACTOR: Mapping[str, float] = {"月": 1.0, "日": 26.0, "小时": 26.0 * 8}
PAY_UNITS = tuple(MONTHLY_FACTOR)
# Ranking weights: a posting in a chosen district before one next door.
IN_DISTRICT, NEXT_DOOR = 2, 1


@dataclass(frozen=True, slots=True)
class JobTables:
    """The reviewed trade synonyms and district neighbours."""

    trades: Mapping[str, tuple[str, ...]]  # canonical → its words
    neighbours: Mapping[str, frozenset[str]]  # district → bordering districts (symmetric)

    def trade_of(self, word: str) -> str:
        """The canonical trade a posting's or a worker's word names (itself when unknown)."""
        word = word.strip()
        for canonical, variants in self.trades.items():
            if word == canonical or word in variants:
                return canonical
        return word

    def trades_in(self, text: str) -> tuple[str, ...]:
        """The canonical trades a typed text mentions (longest words first, so 电焊工 ≠ 电工)."""
        found: list[str] = []
        words = sorted(
            ((w, c) for c, vs in self.trades.items() for w in (c, *vs)), key=lambda p: -len(p[0])
        )
        rest = text
        for word, canonical in words:
            if word in rest:
                rest = rest.replace(word, " ")
                if canonical not in found:
                    found.append(canonical)
        return tuple(found)

    def nearby(self, district: str) -> frozenset[str]:
        return self.neighbours.get(district, frozenset())


def load_job_tables(path: Path | None = None) -> JobTables:
    with (path or bundled_data_path("trades.toml")).open("rb") as handle:
        data = tomllib.load(handle)
    trades = {str(k): tuple(str(w) for w in v) for k, v in data.get("trades", {}).items()}
    neighbours: dict[str, set[str]] = {}
    for district, others in data.get("neighbours", {}).items():
        for other in others:
            neighbours.setdefault(district, set()).add(other)
            neighbours.setdefault(other, set()).add(district)
    return JobTables(trades, {d: frozenset(n) for d, n in neighbours.items()})


@dataclass(frozen=True, slots=True)
class JobPreferences:
    """What a worker wants; an empty tuple means "any"."""

    districts: tuple[str, ...] = ()
    trades: tuple[str, ...] = ()  # canonical trades
    min_monthly_pay: int = 0


@dataclass(frozen=True, slots=True)
class PostingFacts:
    """What matching needs of a posting."""

    id: int
    district: str
    trade: str  # canonical
    pay_max: float
    pay_unit: str
    imported_at: datetime


def monthly_pay(amount: float, unit: str) -> float:
    return amount * MONTHLY_FACTOR.get(unit, 1.0)


def match_score(wanted: JobPreferences, posting: PostingFacts, tables: JobTables) -> int | None:
    """How well a posting fits (higher is better), or None when it does not."""
    if wanted.trades and posting.trade not in wanted.trades:
        return None
    if monthly_pay(posting.pay_max, posting.pay_unit) < wanted.min_monthly_pay:
        return None
    if not wanted.districts or posting.district in wanted.districts:
        return IN_DISTRICT
    if any(posting.district in tables.nearby(d) for d in wanted.districts):
        return NEXT_DOOR
    return None


def best_matches(
    wanted: JobPreferences,
    postings: Iterable[PostingFacts],
    tables: JobTables,
    *,
    limit: int,
) -> list[PostingFacts]:
    """The fitting postings, chosen districts first, then better pay, then the newest."""
    scored = [(s, p) for p in postings if (s := match_score(wanted, p, tables)) is not None]
    scored.sort(
        key=lambda sp: (
            -sp[0],
            -monthly_pay(sp[1].pay_max, sp[1].pay_unit),
            -sp[1].imported_at.timestamp(),
        )
    )
    return [posting for _, posting in scored[:limit]]


def canonical_trades(words: Sequence[str], tables: JobTables) -> tuple[str, ...]:
    return tuple(dict.fromkeys(tables.trade_of(w) for w in words if w.strip()))
