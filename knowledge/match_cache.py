"""The engine's results for recent questions: crowds from one poster ask the same few questions,
and a matcher never changes once built (a curator's change builds a new one), so a result found
once is the result until the matcher is replaced."""

from __future__ import annotations

from collections import OrderedDict

from knowledge.match import Matcher, MatchResult

DEFAULT_SIZE = 4096


class MatchCache:
    """Least-recently-used results of one matcher, keyed by the question's exact text."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        if size < 1:
            raise ValueError("a cache holds at least one result")
        self._size = size
        self._matcher: Matcher | None = None
        self._results: OrderedDict[str, MatchResult] = OrderedDict()

    def match(self, matcher: Matcher, question: str) -> MatchResult:
        if matcher is not self._matcher:  # rebuilt: every kept result may have changed
            self._matcher = matcher
            self._results.clear()
        result = self._results.get(question)
        if result is not None:
            self._results.move_to_end(question)
            return result
        result = matcher.match(question)
        self._results[question] = result
        if len(self._results) > self._size:
            self._results.popitem(last=False)
        return result
