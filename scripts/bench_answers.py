"""The answer engine with the whole library loaded: latency per question, start-up, memory.

    .venv/bin/python scripts/bench_answers.py [--questions FILE.jsonl] [--rounds 5]

Prints, for the engine and for the BM25 baseline (bm25s over jieba tokens of the raw clauses) on
the same questions: p50/p99/max milliseconds per question in process. Then, for three starts of a
fresh process, the seconds from launching it to its first printed answer, its resident memory
then and its peak, and which caches it found:

- first start, cold: as a fresh clone on a fresh machine: a copy of bot/, handlers/ and
  knowledge/ without compiled bytecode, an empty temp directory (no jieba model cache), a fresh
  SQLite database (every document imported);
- first start, warm: the same copy, now compiled by the cold start, and another fresh database;
- restart: the second start on that database.

Questions come from a question file (either eval format) or, without one, the benchmark workload
and a few law questions.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
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
    "print(*(int(status.split(f'{k}:')[1].split()[0]) // 1024 for k in ('VmRSS', 'VmHWM')))"
)
REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "knowledge")


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


@dataclass(frozen=True, slots=True)
class Start:
    name: str
    seconds: float
    # CPU seconds to the first answer and exit: on a shared machine, steadier than the wall clock.
    cpu_seconds: float
    resident_mb: float
    peak_mb: float
    caches: str


def stored_features(database: Path) -> int:
    """Clause texts the database's feature cache holds: each one was cut by some start (the
    bundled library's are shipped, so a first start stores only what the shipped file lacks)."""
    if not database.exists():
        return 0
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        if "clause_features" not in tables:
            return 0
        return int(connection.execute("SELECT count(*) FROM clause_features").fetchone()[0])


def jieba_caches(temp: Path) -> int:
    return len(list(temp.glob("jieba*.cache")))


def without_bytecode_switch(environment: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in environment.items() if k != "PYTHONDONTWRITEBYTECODE"}


def fresh_clone(directory: Path) -> Path:
    """The packages as a fresh clone has them: sources and data, no compiled bytecode."""
    clone = directory / "clone"
    for package in PACKAGES:
        shutil.copytree(
            REPO / package, clone / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    return clone


def start_once(name: str, config: Path, *, cwd: Path, temp: Path, database: Path) -> Start:
    """One process from launch to its first answer; what it found before, what it cut."""
    compiled = any((cwd / "knowledge").glob("__pycache__/*.pyc"))
    jieba_before, stored_before = jieba_caches(temp), stored_features(database)
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", FIRST_ANSWER, str(config)],
        stdout=subprocess.PIPE,
        cwd=cwd,
        # Bytecode is written as by default (the cold start compiles the clone for the others).
        env={**without_bytecode_switch(os.environ), "TMPDIR": str(temp)},
    )
    assert child.stdout is not None
    # The child's own figures: its rusage peak would count the memory of this parent it forked from.
    resident, peak = (float(figure) for figure in child.stdout.readline().split())
    seconds = time.perf_counter() - started
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise SystemExit(f"the answering process failed ({status})")
    caches = (
        f"bytecode {'compiled' if compiled else 'none'}, "
        f"jieba model caches in TMPDIR {jieba_before} (now {jieba_caches(temp)}), "
        f"database features {stored_before} → {stored_features(database)}"
    )
    return Start(name, seconds, usage.ru_utime + usage.ru_stime, resident, peak, caches)


def first_answers() -> list[Start]:
    """A cold first start, a warm first start and a restart, all on one fresh clone."""
    directory = Path(tempfile.mkdtemp())
    clone = fresh_clone(directory)
    temp = directory / "tmp"  # empty: no jieba model cache, as on a fresh machine
    temp.mkdir()
    starts = []
    for name, database in (
        ("first start, cold", directory / "cold.db"),
        ("first start, warm", directory / "warm.db"),
        ("restart", directory / "warm.db"),
    ):
        config = directory / f"{database.stem}.toml"
        config.write_text(
            f'[database]\nurl = "sqlite:///{database}"\n[logging]\nlevel = "WARNING"\n',
            encoding="utf-8",
        )
        starts.append(start_once(name, config, cwd=clone, temp=temp, database=database))
    shutil.rmtree(directory)
    return starts


def report(name: str, spent: list[float]) -> str:
    return (
        f"{name:10} p50 {percentile(spent, 0.5):6.2f} ms   p99 {percentile(spent, 0.99):6.2f} ms"
        f"   max {max(spent):6.2f} ms   ({len(spent)} answers)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--starts", type=int, default=1, help="repeat the three starts; the median run is shown"
    )
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
    runs = [first_answers() for _ in range(max(args.starts, 1))]
    for kind in zip(*runs, strict=True):
        ordered = sorted(kind, key=lambda start: start.seconds)
        start = ordered[len(ordered) // 2]
        spread = f" (median of {len(ordered)}, fastest {ordered[0].seconds:.2f} s)"
        print(
            f"{start.name:17}: first answer {start.seconds:.2f} s after launch "
            f"({start.cpu_seconds:.2f} s CPU){spread if len(ordered) > 1 else ''}, "
            f"resident {start.resident_mb:.0f} MB then (peak {start.peak_mb:.0f} MB)\n"
            f"{'':19}caches: {start.caches}"
        )


if __name__ == "__main__":
    main()
