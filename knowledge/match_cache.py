"""The engine's results for recent questions: crowds from one poster ask the same few questions,
and a matcher never changes once built (a curator's change builds a new one), so a result found
once is the result until the matcher is replaced — and so is whatever is made of it alone (the
answer composed from it), kept beside it."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

from knowledge.match import Matcher, MatchResult

DEFAULT_SIZE = 4096

T = TypeVar("T")


class MatchCache(Generic[T]):
    """Least-recently-used results of one matcher, keyed by the question's exact text, each with
    what `derive` makes of it (a pure function of the result)."""

    def __init__(self, derive: Callable[[MatchResult], T], *, size: int = DEFAULT_SIZE) -> None:
        if size < 1:
            raise ValueError("a cache holds at least one result")
        self._derive = derive
        self._size = size
        self._matcher: Matcher | None = None
        self._results: OrderedDict[str, tuple[MatchResult, T]] = OrderedDict()

    def match(self, matcher: Matcher, question: str) -> tuple[MatchResult, T]:
        if matcher is not self._matcher:  # rebuilt: every kept result may have changed
            self._matcher = matcher
            self._results.clear()
        kept = self._results.get(question)
        if kept is not None:
            self._results.move_to_end(question)
            return kept
        result = matcher.match(question)
        kept = (result, self._derive(result))
        self._results[question] = kept
        if len(self._results) > self._size:
            self._results.popitem(last=False)
        return kept
