"""ruff and mypy are part of the suite, so CI fails on a lint or type error like on a bug."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *command], cwd=REPO, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    "command",
    [
        ("ruff", "check", "bot", "handlers", "knowledge", "tests", "scripts"),
        ("ruff", "format", "--check", "bot", "handlers", "knowledge", "scripts"),
        ("mypy",),
    ],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_clean(command: tuple[str, ...]) -> None:
    result = run(*command)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dependencies_point_one_way() -> None:
    """knowledge imports neither handlers nor bot; handlers don't import bot (ARCHITECTURE.md)."""
    forbidden = {"knowledge": ("handlers", "bot", "telegram", "sqlmodel", "sqlalchemy"),
                 "handlers": ("bot", "telegram", "sqlmodel", "sqlalchemy")}  # fmt: skip
    for package, banned in forbidden.items():
        for path in (REPO / package).rglob("*.py"):
            for line in path.read_text(encoding="utf-8").splitlines():
                words = line.split()
                if len(words) >= 2 and words[0] in ("import", "from"):
                    root = words[1].split(".")[0]
                    assert root not in banned, f"{path.relative_to(REPO)}: {line.strip()}"
