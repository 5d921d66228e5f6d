"""A long send's progress on the terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """A one-line progress bar on stderr, redrawn at most a few times a second."""

    def __init__(self, total: int, *, label: str, stream: TextIO | None = None) -> None:
        self._total = total
        self._label = label
        self._stream = stream or sys.stderr
        self._started = time.perf_counter()
        self._drawn_at = 0.0

    def update(self, done: int, sent: int, *, final: bool = False) -> None:
        now = time.perf_counter()
        if not final and now - self._drawn_at < 0.25:
            return
        self._drawn_at = now
        share = done / self._total if self._total else 1.0
        bar = "#" * int(share * 30)
        rate = sent / max(now - self._started, 1e-9)
        self._stream.write(
            f"\r{self._label} [{bar:<30}] {done}/{self._total} 已发 {sent} {rate:5.1f} 条/秒"
        )
        if final:
            self._stream.write("\n")
        self._stream.flush()
