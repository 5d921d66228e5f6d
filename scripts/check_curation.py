"""Check a curated TOML file against its document: ids exist, topics and hotlines are known, lengths fit.

Usage: python scripts/check_curation.py knowledge/data/laws/<stem>.curated.toml [...]
"""

from __future__ import annotations

import sys
from pathlib import Path

from knowledge.curation import CurationError, load_curation
from knowledge.parser import parse_file

SUMMARY_LIMIT = 150
PHRASES_LIMIT = 10


def check(path: Path) -> list[str]:
    stem = path.name.removesuffix(".curated.toml")
    source = next(
        (p for p in (path.parent / f"{stem}.md", path.parent / f"{stem}.txt") if p.exists()), None
    )
    if source is None:
        return [f"{path}: no document {stem}.md or {stem}.txt beside it"]
    try:
        curation = load_curation(path, parse_file(source))
    except CurationError as error:
        return [str(error)]
    problems = []
    for clause in curation.clauses.values():
        if len(clause.summary) > SUMMARY_LIMIT:
            problems.append(
                f"{path.name} {clause.clause_id}: summary {len(clause.summary)} > {SUMMARY_LIMIT}"
            )
        if len(clause.phrases) > PHRASES_LIMIT:
            problems.append(
                f"{path.name} {clause.clause_id}: {len(clause.phrases)} phrases > {PHRASES_LIMIT}"
            )
    print(f"{path.name}: {len(curation.clauses)} curated articles")
    return problems


def main() -> int:
    problems = [p for arg in sys.argv[1:] for p in check(Path(arg))]
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
