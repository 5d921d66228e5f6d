"""`policybot eval`: score the answer engine on a question set (format: shared/eval/README.md).

Both formats are read: the plan's (`"clauses": ["2.3.3"]`, all in the plan) and the library's
(`"gold": [{"doc": "labor-contract-law-2012", "clause": "art82"}]`); sources are compared as
(document, clause) pairs. Every question is a new single-turn conversation through the same path
the channels use. Metrics follow the README: strict top-1/top-3, topic accuracy, out-of-scope
rejection and false rejection, handoff precision/recall, nearest-rank latency percentiles —
overall, per style, per topic and per document — plus, with `--baseline bm25`, BM25 over jieba
tokens of the raw clauses.
"""

from __future__ import annotations

import json
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handlers.questions import answer_question
from knowledge.match import Matcher

OUT_OF_SCOPE = "out_of_scope"
# Questions in the plan's format cite clauses of this document.
PLAN_KEY = "tianjin-2023-county-migrant-plan"
SourceKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class EvalItem:
    id: str
    question: str
    gold: tuple[SourceKey, ...]
    topic: str
    handoff: bool
    style: str

    @property
    def in_scope(self) -> bool:
        return bool(self.gold)

    @property
    def document(self) -> str:
        """The document of the best gold source, for the per-document figures."""
        return self.gold[0][0] if self.gold else OUT_OF_SCOPE


@dataclass(frozen=True, slots=True)
class Prediction:
    item: EvalItem
    cited: tuple[SourceKey, ...]
    fallback: bool
    topic: str
    handoff: bool
    latency_ms: float


class EvalFileError(ValueError):
    """A question file that is not in the README's format."""


def _gold(raw: dict[str, Any]) -> tuple[SourceKey, ...]:
    if "gold" in raw:
        return tuple((str(g["doc"]), str(g["clause"])) for g in raw["gold"])
    return tuple((PLAN_KEY, str(c)) for c in raw["clauses"])


def read_items(path: Path) -> list[EvalItem]:
    items: list[EvalItem] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise EvalFileError(f"{path}: {error}") from error
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            items.append(
                EvalItem(
                    id=str(raw["id"]),
                    question=str(raw["q"]),
                    gold=_gold(raw),
                    topic=str(raw.get("topic", "")),
                    handoff=bool(raw.get("handoff", False)),
                    style=str(raw.get("style", "")),
                )
            )
        except (ValueError, KeyError, TypeError) as error:
            raise EvalFileError(f"{path}:{number}: not an eval item ({error})") from error
    if not items:
        raise EvalFileError(f"{path}: no questions")
    return items


def predict(matcher: Matcher, items: Iterable[EvalItem]) -> list[Prediction]:
    predictions = []
    for item in items:
        started = time.perf_counter()
        answer, _result, _record = answer_question(matcher, item.question)
        latency_ms = (time.perf_counter() - started) * 1000
        predictions.append(
            Prediction(
                item=item,
                cited=tuple((source.document, source.clause) for source in answer.sources),
                fallback=answer.fallback,
                topic=OUT_OF_SCOPE if answer.fallback else (answer.topic or ""),
                handoff=answer.handoff,
                latency_ms=latency_ms,
            )
        )
    return predictions


def nearest_rank(values: Sequence[float], percentile: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(percentile / 100 * len(ordered)))
    return ordered[rank - 1]


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _is_within(cited: SourceKey, gold: Sequence[SourceKey]) -> bool:
    """Lenient: citing a child of a gold section id counts (2.1.4 for gold 2.1)."""
    document, clause = cited
    return any(document == doc and (clause == g or clause.startswith(g + ".")) for doc, g in gold)


def metrics(predictions: Sequence[Prediction]) -> dict[str, Any]:
    in_scope = [p for p in predictions if p.item.in_scope]
    out_of_scope = [p for p in predictions if not p.item.in_scope]
    top1 = sum(1 for p in in_scope if p.cited[:1] and p.cited[0] in p.item.gold)
    # The plan's format names plan clauses only: how often the first plan clause cited is right,
    # where a law article may lead (a secondary figure; top1 above is the strict one).
    plan_items = [p for p in in_scope if all(doc == PLAN_KEY for doc, _ in p.item.gold)]
    plan_first = sum(
        1 for p in plan_items if next((c for c in p.cited if c[0] == PLAN_KEY), None) in p.item.gold
    )
    top3 = sum(1 for p in in_scope if any(c in p.item.gold for c in p.cited[:3]))
    lenient = sum(1 for p in in_scope if p.cited[:1] and _is_within(p.cited[0], p.item.gold))
    true_handoffs = sum(1 for p in predictions if p.handoff and p.item.handoff)
    predicted_handoffs = sum(1 for p in predictions if p.handoff)
    gold_handoffs = sum(1 for p in predictions if p.item.handoff)
    latencies = [p.latency_ms for p in predictions]
    return {
        "items": len(predictions),
        "in_scope": len(in_scope),
        "top1": _ratio(top1, len(in_scope)),
        "top3": _ratio(top3, len(in_scope)),
        "top1_lenient": _ratio(lenient, len(in_scope)),
        "top1_first_plan_clause": _ratio(plan_first, len(plan_items)),
        "topic_accuracy": _ratio(
            sum(1 for p in predictions if p.topic == p.item.topic), len(predictions)
        ),
        "oos_rejection": _ratio(sum(1 for p in out_of_scope if p.fallback), len(out_of_scope)),
        "false_rejection": _ratio(sum(1 for p in in_scope if p.fallback), len(in_scope)),
        "handoff_precision": _ratio(true_handoffs, predicted_handoffs),
        "handoff_recall": _ratio(true_handoffs, gold_handoffs),
        "latency_ms": {
            "p50": round(nearest_rank(latencies, 50), 3),
            "p99": round(nearest_rank(latencies, 99), 3),
            "max": round(max(latencies, default=0.0), 3),
        },
    }


def grouped(
    predictions: Sequence[Prediction], key: Callable[[Prediction], str]
) -> dict[str, dict[str, Any]]:
    groups: defaultdict[str, list[Prediction]] = defaultdict(list)
    for prediction in predictions:
        groups[key(prediction)].append(prediction)
    return {name: metrics(group) for name, group in sorted(groups.items())}


def baseline_bm25(matcher: Matcher, items: Sequence[EvalItem]) -> dict[str, Any]:
    """BM25 (bm25s) over plain jieba tokens of the raw clause texts, no lexicon, no curation."""
    import bm25s  # imported here: only the evaluation needs it
    import jieba

    tokenizer = jieba.Tokenizer()
    entries = matcher.entries
    corpus = [tokenizer.lcut(entry.clause.text) for entry in entries]
    retriever = bm25s.BM25()
    retriever.index(corpus, show_progress=False)
    in_scope = [item for item in items if item.in_scope]
    top1 = top3 = 0
    by_style: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for item in in_scope:
        tokens = [
            t for t in tokenizer.lcut(matcher.converter.to_simplified(item.question)) if t.strip()
        ]
        documents, _scores = retriever.retrieve([tokens], k=3, show_progress=False)
        cited = [entries[int(i)].key for i in documents[0]]
        hit1 = int(cited[0] in item.gold)
        hit3 = int(any(c in item.gold for c in cited))
        top1 += hit1
        top3 += hit3
        by_style[item.style][0] += hit1
        by_style[item.style][1] += hit3
        by_style[item.style][2] += 1
    return {
        "name": "bm25",
        "top1": _ratio(top1, len(in_scope)),
        "top3": _ratio(top3, len(in_scope)),
        "by_style": {
            style: {"top1": _ratio(h1, n), "top3": _ratio(h3, n)}
            for style, (h1, h3, n) in sorted(by_style.items())
        },
    }


def evaluate(
    matcher: Matcher, items: Sequence[EvalItem], *, baseline: str | None = None
) -> dict[str, Any]:
    predictions = predict(matcher, items)
    report: dict[str, Any] = {
        "overall": metrics(predictions),
        "by_style": grouped(predictions, lambda p: p.item.style),
        "by_topic": grouped(predictions, lambda p: p.item.topic),
        "by_document": grouped(predictions, lambda p: p.item.document),
        "misses": [
            {
                "id": p.item.id,
                "q": p.item.question,
                "gold": [":".join(g) for g in p.item.gold],
                "cited": [":".join(c) for c in p.cited],
                "fallback": p.fallback,
                "handoff": [p.handoff, p.item.handoff],
            }
            for p in predictions
            if (p.item.in_scope and (not p.cited or p.cited[0] not in p.item.gold))
            or (not p.item.in_scope and not p.fallback)
            or p.handoff != p.item.handoff
        ],
    }
    if baseline == "bm25":
        report["baseline"] = baseline_bm25(matcher, items)
        engine_top1 = report["overall"]["top1"] or 0.0
        report["top1_over_baseline_points"] = round(
            100 * (engine_top1 - (report["baseline"]["top1"] or 0.0)), 1
        )
    return report


def _percent(value: float | None) -> str:
    return "  n/a" if value is None else f"{100 * value:5.1f}%"


def format_report(report: dict[str, Any]) -> str:
    """A table for people; `--json` prints the report itself."""
    columns = ("top1", "top3", "topic_accuracy", "oos_rejection", "false_rejection",
               "handoff_precision", "handoff_recall")  # fmt: skip
    header = (
        f"{'':18}{'n':>4} " + " ".join(f"{c[:9]:>9}" for c in columns) + "   p50ms   p99ms   maxms"
    )

    def row(name: str, m: dict[str, Any]) -> str:
        latency = m["latency_ms"]
        return (
            f"{name:18}{m['items']:>4} "
            + " ".join(f"{_percent(m[c]):>9}" for c in columns)
            + f" {latency['p50']:7.2f} {latency['p99']:7.2f} {latency['max']:7.2f}"
        )

    lines = [header, row("overall", report["overall"])]
    plan_first = report["overall"].get("top1_first_plan_clause")
    if plan_first is not None:
        lines.append(f"plan-format items, first plan clause cited is gold: {_percent(plan_first)}")
    lines += ["", "by style:"]
    lines += [row("  " + name, m) for name, m in report["by_style"].items()]
    lines += ["", "by topic:"]
    lines += [row("  " + name, m) for name, m in report["by_topic"].items()]
    lines += ["", "by document (of the best gold source):"]
    lines += [row("  " + name[:16], m) for name, m in report["by_document"].items()]
    if "baseline" in report:
        baseline = report["baseline"]
        lines += [
            "",
            f"baseline bm25: top1 {_percent(baseline['top1'])}  top3 {_percent(baseline['top3'])}"
            f"  → engine top1 is {report['top1_over_baseline_points']:+.1f} points over it",
        ]
    lines += ["", f"misses: {len(report['misses'])}"]
    lines += [f"  {json.dumps(miss, ensure_ascii=False)}" for miss in report["misses"]]
    return "\n".join(lines)
