"""The answer engine with the whole library loaded: latency per question, start-up, memory.

    .venv/bin/python scripts/bench_answers.py [--questions FILE.jsonl] [--rounds 5]

Prints, for the engine and for the BM25 baseline (bm25s over jieba tokens of the raw clauses) on
the same questions: p50/p99/max milliseconds per question in process. Then, from a fresh process
on a fresh SQLite database (first start: every document imported), the seconds from launching the
process to its first printed answer and the process's peak resident memory. Questions come from a
question file (either eval format) or, without one, the benchmark workload and a few law questions.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.knowledge_base import bundled_sources, read_source
from handlers.questions import answer_question
from knowledge.lexicon import load_lexicon
from knowledge.match import Matcher
from scripts.benchmark_workload import QUESTIONS, percentile

LAW_QUESTIONS = (
    "工资多久发一次", "没签合同能要双倍工资吗", "工伤了单位不管怎么赔", "仲裁要在多长时间内申请",
    "办居住证要啥条件", "总包单位要不要替分包还工资", "加班费怎么算", "年假有几天",
)  # fmt: skip
FIRST_ANSWER = (
    "import sys; from pathlib import Path; from bot.app import build_app;"
    "from bot.settings import load_settings;"
    "from handlers.questions import answer_question;"
    "app = build_app(load_settings(Path(sys.argv[1])));"
    "answer_question(app.matcher, '老板欠了三个月工资怎么办');"
    "status = Path('/proc/self/status').read_text();"
    "print(int(status.split('VmRSS:')[1].split()[0]) // 1024, flush=True)"
)


def read_questions(path: Path | None) -> list[str]:
    if path is None:
        return [*QUESTIONS, *LAW_QUESTIONS]
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["q"] for line in lines if line.strip()]


def timings(answer: Callable[[str], object], questions: Sequence[str], rounds: int) -> list[float]:
    for question in questions:  # warm every lazy path once
        answer(question)
    spent: list[float] = []
    for _ in range(rounds):
        for question in questions:
            started = time.perf_counter()
            answer(question)
            spent.append((time.perf_counter() - started) * 1000)
    return spent


def bm25_baseline(matcher: Matcher) -> Callable[[str], object]:
    import bm25s
    import jieba

    tokenizer = jieba.Tokenizer()
    retriever = bm25s.BM25()
    retriever.index([tokenizer.lcut(e.clause.text) for e in matcher.entries], show_progress=False)

    def answer(question: str) -> object:
        tokens = [t for t in tokenizer.lcut(matcher.converter.to_simplified(question)) if t.strip()]
        return retriever.retrieve([tokens or ["。"]], k=3, show_progress=False)

    return answer


def first_answers() -> list[tuple[float, float, float]]:
    """For a first start (every document imported, tokenised) and a restart on the same database:
    seconds from launching the process to its first answer, its resident memory then, and its
    peak resident memory (start-up's passing work included), in MB."""
    directory = Path(tempfile.mkdtemp())
    config = directory / "bench.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{directory / "bench.db"}"\n[logging]\nlevel = "WARNING"\n',
        encoding="utf-8",
    )
    figures = []
    for _ in ("first start", "restart"):
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-c", FIRST_ANSWER, str(config)],
            stdout=subprocess.PIPE,
            cwd=Path(__file__).resolve().parent.parent,
        )
        assert child.stdout is not None
        resident = float(child.stdout.read().strip() or 0)
        seconds = time.perf_counter() - started
        _, status, usage = os.wait4(child.pid, 0)
        if status != 0:
            raise SystemExit(f"the answering process failed ({status})")
        figures.append((seconds, resident, usage.ru_maxrss / 1024))
    return figures


def report(name: str, spent: list[float]) -> str:
    return (
        f"{name:10} p50 {percentile(spent, 0.5):6.2f} ms   p99 {percentile(spent, 0.99):6.2f} ms"
        f"   max {max(spent):6.2f} ms   ({len(spent)} answers)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    questions = read_questions(args.questions)
    started = time.perf_counter()
    matcher = Matcher([read_source(path) for path in bundled_sources()], load_lexicon())
    print(
        f"index: {len(matcher.entries)} clauses of {len(bundled_sources())} documents "
        f"built in {time.perf_counter() - started:.2f} s"
    )
    print(report("engine", timings(lambda q: answer_question(matcher, q), questions, args.rounds)))
    print(report("bm25", timings(bm25_baseline(matcher), questions, args.rounds)))
    for name, (seconds, resident, peak) in zip(
        ("first start", "restart"), first_answers(), strict=True
    ):
        print(
            f"{name:11}: first answer {seconds:.2f} s after launch, "
            f"resident {resident:.0f} MB then (peak {peak:.0f} MB)"
        )


if __name__ == "__main__":
    main()
