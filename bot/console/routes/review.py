"""The curators' review queue: unanswered and 没用 questions (while their text is kept), grouped,
with one action per row — attach as a worker phrase to a clause, add a synonym, out of scope,
dismiss. Additions take effect at once here and within seconds in every other process."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from functools import cached_property

from sqlmodel import Session
from starlette.responses import RedirectResponse, Response

from bot.console.context import Console
from bot.console.guard import ConsoleRoute, StaffRequest
from bot.console.hit_test import HitTest, curated_clauses, hit_test
from bot.console.review_queue import group_questions
from bot.console.roles import CURATION
from bot.storage.console_models import KnowledgeAddition
from bot.storage.engine import in_transaction
from bot.storage.models import QuestionRow, utc_now
from bot.storage.repositories import knowledge_additions as additions_rows
from knowledge.additions import AdditionError, check_synonym, clean_addition, with_synonyms
from knowledge.lexicon import Lexicon, load_lexicon

MAX_GROUPS = 50
CANDIDATES = 3
MESSAGES: Mapping[str, str] = {
    "attached": "已加为条款的说法，机器人已按新说法回答。",
    "synonym": "同义词已加上，机器人已按新词回答。",
    "out_of_scope": "已标为不属于范围。",
    "dismissed": "已忽略。",
    "gone": "这些问题已经处理过或已过保留期。",
}


def question_ids(visit: StaffRequest) -> list[int]:
    return [int(value) for value in visit.fields("question") if value.isdigit()]


class ReviewRoutes:
    def __init__(self, console: Console) -> None:
        self._console = console

    @cached_property
    def _lexicon(self) -> Lexicon:
        return load_lexicon()

    async def queue(self, visit: StaffRequest, *, error: str | None = None) -> Response:
        params = visit.request.query_params
        newest = params.get("sort") == "newest"
        retention = timedelta(days=self._console.settings.privacy.question_retention_days)
        tested_id = params.get("tested", "")

        def work(session: Session) -> tuple[list[QuestionRow], KnowledgeAddition | None]:
            rows = additions_rows.questions_to_review(since=utc_now() - retention, session=session)
            tested = session.get(KnowledgeAddition, int(tested_id)) if tested_id.isdigit() else None
            return rows, tested

        rows, tested = await in_transaction(self._console.engine, work)
        matcher = await self._console.deps.knowledge.latest()
        groups = group_questions(rows, matcher.converter.to_simplified, newest_first=newest)
        shown = groups[:MAX_GROUPS]
        candidates: dict[str, HitTest] = {
            group.key: hit_test(matcher, group.text) for group in shown
        }
        after: HitTest | None = None
        if tested is not None:
            after = hit_test(matcher, tested.text)
        return self._console.pages.render(
            "review.html",
            visit.staff,
            groups=shown,
            hidden=len(groups) - len(shown),
            questions=sum(group.count for group in groups),
            candidates=candidates,
            candidate_count=CANDIDATES,
            clauses=curated_clauses(matcher),
            terms=sorted(set(self._lexicon.synonyms.values())),
            newest=newest,
            message=MESSAGES.get(params.get("m", "")),
            error=error,
            tested=after,
            status_code=400 if error else 200,
        )

    def _done(self, code: str, addition: int | None = None) -> Response:
        tested = f"&tested={addition}" if addition is not None else ""
        return RedirectResponse(f"/console/review?m={code}{tested}", status_code=303)

    async def attach(self, visit: StaffRequest) -> Response:
        ids = question_ids(visit)
        document_key, _, clause_id = visit.field("clause").strip().partition(":")
        entry = self._console.deps.knowledge.matcher.entry(document_key, clause_id)
        if entry is None or entry.curated is None:
            return await self.queue(visit, error="请从列表里选一条有白话说明的条款。")
        try:
            phrase = clean_addition(visit.field("phrase"))
        except AdditionError as error:
            return await self.queue(visit, error=f"说法：{error}")
        reviewer = visit.staff.name

        def work(session: Session) -> int | None:
            added = additions_rows.add_phrase(
                document_key, clause_id, phrase, added_by=reviewer, session=session
            )
            additions_rows.decide(
                ids, "attached", reviewer=reviewer, addition_id=added.id, session=session
            )
            return added.id

        addition = await in_transaction(self._console.engine, work)
        await self._console.deps.knowledge.rebuild_now()
        return self._done("attached", addition)

    async def synonym(self, visit: StaffRequest) -> Response:
        ids = question_ids(visit)
        try:
            variant = clean_addition(visit.field("variant"))
            canonical = clean_addition(visit.field("canonical"))
        except AdditionError as error:
            return await self.queue(visit, error=f"同义词：{error}")
        reviewer = visit.staff.name
        base = self._lexicon

        def work(session: Session) -> int | None:
            current = with_synonyms(base, additions_rows.load_additions(session=session))
            check_synonym(variant, canonical, current)
            added = additions_rows.add_synonym(
                variant, canonical, added_by=reviewer, session=session
            )
            additions_rows.decide(
                ids, "synonym", reviewer=reviewer, addition_id=added.id, session=session
            )
            return added.id

        try:
            addition = await in_transaction(self._console.engine, work)
        except AdditionError as error:
            return await self.queue(visit, error=f"同义词：{error}")
        await self._console.deps.knowledge.rebuild_now()
        return self._done("synonym", addition)

    async def _decide(self, visit: StaffRequest, action: str) -> Response:
        ids = question_ids(visit)
        reviewer = visit.staff.name
        taken = await in_transaction(
            self._console.engine,
            lambda s: additions_rows.decide(ids, action, reviewer=reviewer, session=s),
        )
        return self._done(action if taken else "gone")

    async def out_of_scope(self, visit: StaffRequest) -> Response:
        return await self._decide(visit, "out_of_scope")

    async def dismiss(self, visit: StaffRequest) -> Response:
        return await self._decide(visit, "dismissed")

    async def queue_page(self, visit: StaffRequest) -> Response:
        return await self.queue(visit)

    def routes(self) -> list[ConsoleRoute]:
        post = ("POST",)
        return [
            ConsoleRoute("/console/review", self.queue_page, CURATION),
            ConsoleRoute("/console/review/attach", self.attach, CURATION, post),
            ConsoleRoute("/console/review/synonym", self.synonym, CURATION, post),
            ConsoleRoute("/console/review/out-of-scope", self.out_of_scope, CURATION, post),
            ConsoleRoute("/console/review/dismiss", self.dismiss, CURATION, post),
        ]
