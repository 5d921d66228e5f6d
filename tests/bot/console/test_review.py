"""The review queue and hit testing: what workers asked that the bot could not answer (or that
got 没用), grouped; a curator's phrase or synonym answers it right after, in this process and,
within seconds, in every other one; the additions go back into the curated files."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.app import compose
from bot.console.review_queue import group_questions
from bot.console.roles import Role
from bot.storage.console_models import KnowledgeAddition, QuestionReview
from bot.storage.engine import run_transaction
from bot.storage.models import QuestionRow
from bot.storage.repositories.knowledge_additions import current_revision
from knowledge.match import Matcher
from knowledge.normalizer import ScriptConverter
from tests.bot.console.conftest import ConsoleServer, add_staff, sign_in
from tests.bot.server_harness import USER_KEY_SECRET

UNANSWERED = "学开挖掘机"
SESSION = "review-test-session-0001"


async def ask(http: httpx.AsyncClient, text: str, session: str = SESSION) -> str:
    response = await http.post("/api/chat", json={"session": session, "text": text})
    assert response.status_code == 200
    return "\n".join(reply["text"] for reply in response.json()["replies"])


def question_ids(console: ConsoleServer) -> list[int]:
    with Session(console.engine) as session:
        return [row.id for row in session.exec(select(QuestionRow)) if row.id is not None]


def test_near_identical_questions_are_one_row() -> None:
    now = datetime.now(UTC)

    def row(i: int, text: str, *, fallback: bool = True, minutes: int = 0) -> QuestionRow:
        return QuestionRow(
            id=i, user_key="u", channel="web", text=text, fallback=fallback,
            useful=None if fallback else False, asked_at=now - timedelta(minutes=minutes),
        )  # fmt: skip

    rows = [
        row(1, "学开挖掘机", minutes=5),
        row(2, "学开挖掘机？", minutes=4),
        row(3, "學開挖掘機", minutes=3),
        row(4, "学开个挖掘机", minutes=3),
        row(5, "我想去学开挖掘机啊", minutes=2),
        row(6, "公积金怎么取", fallback=False, minutes=1),
    ]
    groups = group_questions(rows, ScriptConverter().to_simplified)
    assert [(g.text, g.count) for g in groups] == [
        ("学开挖掘机", 4),
        ("公积金怎么取", 1),
        ("我想去学开挖掘机啊", 1),
    ]
    assert (groups[0].unanswered, groups[0].disliked, groups[0].question_ids) == (
        4,
        0,
        [1, 2, 3, 4],
    )
    newest = group_questions(rows, ScriptConverter().to_simplified, newest_first=True)
    assert newest[0].text == "公积金怎么取" and newest[0].disliked == 1


async def test_attaching_a_question_makes_the_bot_answer_it(console: ConsoleServer) -> None:
    assert "没有写到" in await ask(console.http, UNANSWERED)
    add_staff(console.engine, "zhao", Role.CURATOR)
    csrf = await sign_in(console.http, "zhao")
    queue = (await console.http.get("/console/review")).text
    assert UNANSWERED in queue and "未答上 1" in queue
    response = await console.http.post(
        "/console/review/attach",
        data={
            "csrf_token": csrf,
            "question": [str(i) for i in question_ids(console)],
            "clause": "tianjin-2023-county-migrant-plan:2.2.2",
            "phrase": UNANSWERED,
        },
    )
    assert response.status_code == 303
    after = (await console.http.get(response.headers["location"])).text
    assert "已加为条款的说法" in after and "依据：《实施方案》二（二）2" in after
    assert UNANSWERED not in after.split("</section>", 1)[1]  # gone from the queue
    # The very next question in the running bot gets the clause.
    assert "依据：《实施方案》二（二）2" in await ask(
        console.http, UNANSWERED, "another-session-0002"
    )
    with Session(console.engine) as session:
        (review,) = session.exec(select(QuestionReview)).all()
        addition = session.exec(select(KnowledgeAddition)).one()
        assert current_revision(session=session) == 1
    assert (review.action, review.reviewer) == ("attached", "zhao")
    assert (addition.kind, addition.clause_id, addition.added_by) == ("phrase", "2.2.2", "zhao")


async def test_another_process_picks_up_the_addition(
    console: ConsoleServer, plan_matcher: Matcher, tmp_path: Path
) -> None:
    from tests.bot.server_harness import settings_for

    other = compose(
        settings_for(tmp_path, console={"knowledge_check_seconds": 0.05}),
        engine=console.engine,
        matcher=plan_matcher,
        secret=USER_KEY_SECRET,
    )
    assert (await other.knowledge.latest()).match(UNANSWERED).best is None
    add_staff(console.engine, "zhao", Role.CURATOR)
    csrf = await sign_in(console.http, "zhao")
    await console.http.post(
        "/console/review/attach",
        data={
            "csrf_token": csrf,
            "clause": "tianjin-2023-county-migrant-plan:2.2.2",
            "phrase": UNANSWERED,
        },
    )
    for _ in range(200):  # the other process looks every 0.05 s and rebuilds in the background
        await asyncio.sleep(0.05)
        best = (await other.knowledge.latest()).match(UNANSWERED).best
        if best is not None:
            break
    assert best is not None and best.entry.clause.id == "2.2.2"
    assert other.knowledge.revision == 1


async def test_a_synonym_is_used_at_once(console: ConsoleServer) -> None:
    add_staff(console.engine, "zhao", Role.CURATOR)
    csrf = await sign_in(console.http, "zhao")
    before = console.app.knowledge.matcher.match("挖机学校在哪")
    response = await console.http.post(
        "/console/review/synonym",
        data={"csrf_token": csrf, "variant": "挖机学校", "canonical": "技工学校"},
    )
    assert response.status_code == 303
    after = console.app.knowledge.matcher.match("挖机学校在哪")
    assert after.best is not None and "技工学校" in after.features
    assert before.best is None or "技工学校" not in before.features


async def test_a_synonym_that_clashes_is_refused(console: ConsoleServer) -> None:
    add_staff(console.engine, "zhao", Role.CURATOR)
    csrf = await sign_in(console.http, "zhao")
    response = await console.http.post(
        "/console/review/synonym",
        data={"csrf_token": csrf, "variant": "找工作", "canonical": "工伤"},
    )
    assert response.status_code == 400 and "已经是“就业”的同义词" in response.text
    with Session(console.engine) as session:
        assert session.exec(select(KnowledgeAddition)).all() == []


async def test_out_of_scope_and_dismiss_take_questions_off_the_queue(
    console: ConsoleServer,
) -> None:
    await ask(console.http, UNANSWERED)
    await ask(console.http, "老乡会在哪")
    add_staff(console.engine, "zhao", Role.CURATOR)
    csrf = await sign_in(console.http, "zhao")
    first, second = question_ids(console)
    await console.http.post(
        "/console/review/out-of-scope", data={"csrf_token": csrf, "question": str(first)}
    )
    await console.http.post(
        "/console/review/dismiss", data={"csrf_token": csrf, "question": str(second)}
    )
    queue = (await console.http.get("/console/review")).text
    assert "没有待审的问题" in queue
    with Session(console.engine) as session:
        actions = [
            r.action
            for r in session.exec(select(QuestionReview).order_by(col(QuestionReview.question_id)))
        ]
    assert actions == ["out_of_scope", "dismissed"]


async def test_disliked_answers_are_in_the_queue(console: ConsoleServer) -> None:
    response = await console.http.post(
        "/api/chat", json={"session": SESSION, "text": "孩子能上公办学校吗"}
    )
    feedback = next(
        c["choice"] for c in response.json()["replies"][0]["choices"] if c["choice"].endswith(":0")
    )
    await console.http.post("/api/chat", json={"session": SESSION, "choice": feedback})
    add_staff(console.engine, "zhao", Role.CURATOR)
    await sign_in(console.http, "zhao")
    queue = (await console.http.get("/console/review")).text
    assert "孩子能上公办学校吗" in queue and "没用 1" in queue


async def test_texts_past_the_retention_period_are_not_shown(console: ConsoleServer) -> None:
    await ask(console.http, UNANSWERED)
    days = console.app.settings.privacy.question_retention_days
    run_transaction(
        console.engine,
        lambda s: s.exec(
            update(QuestionRow).values(asked_at=datetime.now(UTC) - timedelta(days=days + 1))
        ),
    )
    add_staff(console.engine, "zhao", Role.CURATOR)
    await sign_in(console.http, "zhao")
    assert UNANSWERED not in (await console.http.get("/console/review")).text


async def test_hit_testing_shows_the_answer_the_clauses_and_why(console: ConsoleServer) -> None:
    add_staff(console.engine, "zhao", Role.CURATOR)
    csrf = await sign_in(console.http, "zhao")
    page = (
        await console.http.post(
            "/console/hit-test", data={"csrf_token": csrf, "q": "孩子能上公办学校吗"}
        )
    ).text
    assert "判断：</b>回答" in page and "依据：《实施方案》二（四）4" in page
    assert "《实施方案》二（四）4" in page and "公办" in page  # a ranked clause and a matched word
    fallback = (
        await console.http.post("/console/hit-test", data={"csrf_token": csrf, "q": "明天下雨吗"})
    ).text
    assert "答不上" in fallback
    handoff = (
        await console.http.post(
            "/console/hit-test", data={"csrf_token": csrf, "q": "老板欠我三个月工资不给"}
        )
    ).text
    assert "会提出法律援助" in handoff
