"""The hit-testing box: type a question, see what the bot would answer and why."""

from __future__ import annotations

from starlette.responses import Response

from bot.console.context import Console
from bot.console.guard import ConsoleRoute, StaffRequest
from bot.console.hit_test import hit_test
from bot.console.roles import CURATION

MAX_QUESTION_CHARS = 500


class HitTestRoutes:
    def __init__(self, console: Console) -> None:
        self._console = console

    async def form(self, visit: StaffRequest) -> Response:
        return self._console.pages.render("hit_test.html", visit.staff, result=None, question="")

    async def test(self, visit: StaffRequest) -> Response:
        """A POST, so the question (a worker's words, maybe) stays out of URLs and history."""
        question = visit.field("q").strip()[:MAX_QUESTION_CHARS]
        matcher = await self._console.deps.knowledge.latest()
        result = hit_test(matcher, question) if question else None
        return self._console.pages.render(
            "hit_test.html", visit.staff, result=result, question=question
        )

    def routes(self) -> list[ConsoleRoute]:
        return [
            ConsoleRoute("/console/hit-test", self.form, CURATION),
            ConsoleRoute("/console/hit-test", self.test, CURATION, ("POST",)),
        ]
