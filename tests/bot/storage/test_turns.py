"""One transaction per turn, with the person's lock in the database: two engines stand for two
processes. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session, select

from bot.storage.dialogue_store import SqlDialogueStore
from bot.storage.engine import create_engine_for, in_transaction
from bot.storage.models import ConversationRecord, LegalAidCase, QuestionRow
from bot.storage.open_turn import after_commit
from bot.storage.turns import TurnTransactions
from handlers.messages import IncomingMessage
from knowledge.match import Matcher
from tests.handlers.test_legal_aid_resends import (
    CASE_NUMBER,
    CHANNEL,
    fill_up_to_confirm,
    payload_of,
    referral,
)

WORKERS = 6


@pytest.fixture
def other_process(database_url: str) -> Iterator[Engine]:
    """A second engine on the same database: its own pool, as another process would have."""
    engine = create_engine_for(database_url)
    yield engine
    engine.dispose()


def questions(engine: Engine) -> list[QuestionRow]:
    with Session(engine) as session:
        return list(session.exec(select(QuestionRow)))


async def test_one_submit_reaching_two_processes_at_once_makes_one_case(
    engine: Engine, other_process: Engine, plan_matcher: Matcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The original bug: 确认提交 reaching both processes at once gave two cases."""
    here, _ = referral(engine, plan_matcher)
    there, _ = referral(other_process, plan_matcher)
    for worker in range(WORKERS):
        user = f"te-both-{worker}"
        monkeypatch.setattr("tests.handlers.test_legal_aid_resends.USER", user)
        summary = await fill_up_to_confirm(here)
        submit = payload_of(summary, "确认提交")
        turns = await asyncio.gather(
            here.handle(IncomingMessage.pressed(user, CHANNEL, submit)),
            there.handle(IncomingMessage.pressed(user, CHANNEL, submit)),
        )
        numbers = {tuple(CASE_NUMBER.findall(turn.replies[-1].text)) for turn in turns}
        assert len(numbers) == 1 and len(next(iter(numbers))) == 1
    with Session(engine) as session:
        cases = list(session.exec(select(LegalAidCase)))
    assert len(cases) == WORKERS
    assert len({case.number for case in cases}) == WORKERS


async def test_a_second_process_waits_for_the_persons_open_turn(
    engine: Engine, other_process: Engine
) -> None:
    here, there = TurnTransactions(engine), TurnTransactions(other_process)
    holding, release, entered = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with here.turn("te-wait"):
            holding.set()
            await release.wait()

    async def second() -> None:
        await holding.wait()
        async with there.turn("te-wait"):
            entered.set()

    tasks = [asyncio.create_task(first()), asyncio.create_task(second())]
    await holding.wait()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(asyncio.shield(entered.wait()), timeout=0.5)
    release.set()
    await asyncio.gather(*tasks)
    assert entered.is_set()


async def test_other_people_are_not_held_up_on_postgresql(
    engine: Engine, other_process: Engine
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: every turn queues behind the open one")
    here, there = TurnTransactions(engine), TurnTransactions(other_process)
    release = asyncio.Event()
    holding = asyncio.Event()

    async def first() -> None:
        async with here.turn("te-one"):
            holding.set()
            await release.wait()

    task = asyncio.create_task(first())
    await holding.wait()
    async with there.turn("te-another"):
        pass  # gets through while te-one's turn is open
    release.set()
    await task


async def test_a_turn_that_fails_saves_nothing_and_rings_nothing(engine: Engine) -> None:
    turns = TurnTransactions(engine)
    store = SqlDialogueStore(engine, turns)
    rung: list[str] = []
    with pytest.raises(RuntimeError):
        async with store.turn("te-fail"):
            await store.save_state("te-fail", {"script": "traditional"})
            after_commit(engine, lambda: rung.append("bell"))
            raise RuntimeError("a flow broke")
    assert await store.load_state("te-fail") == {}
    assert rung == []
    async with store.turn("te-fail"):
        await store.save_state("te-fail", {"script": "traditional"})
        after_commit(engine, lambda: rung.append("bell"))
        assert rung == []  # not before the commit
    assert rung == ["bell"]
    assert await store.load_state("te-fail") == {"script": "traditional"}


async def test_calls_inside_a_turn_see_its_uncommitted_writes(engine: Engine) -> None:
    """The dialogue's prepared statements and the ORM stores share the turn's transaction."""
    store = SqlDialogueStore(engine)

    def stored_state(session: Session) -> dict[str, object] | None:
        record = session.get(ConversationRecord, "te-see")
        return None if record is None else dict(record.state)

    async with store.turn("te-see"):
        await store.save_state("te-see", {"known": True})
        assert await in_transaction(engine, stored_state) == {"known": True}
        await in_transaction(
            engine, lambda s: s.merge(ConversationRecord(user_key="te-see", state={"known": False}))
        )
        assert await store.load_state("te-see") == {"known": False}
        with Session(engine) as outside:  # another connection sees nothing yet
            assert stored_state(outside) is None
    with Session(engine) as after:
        assert stored_state(after) == {"known": False}


async def test_a_question_is_one_transaction(engine: Engine, plan_matcher: Matcher) -> None:
    """Issue 16: the state read, the question's row and the state's save commit together, with
    no read transaction before them."""
    from handlers.flows import build_dialogue

    turns = TurnTransactions(engine)
    dialogue = build_dialogue(plan_matcher, SqlDialogueStore(engine, turns))
    user = "te-one-transaction"
    await dialogue.handle(IncomingMessage.typed(user, CHANNEL, "你好"))  # a known person now
    begins: list[object] = []

    def count(connection: object) -> None:
        begins.append(connection)

    for each in turns.engines:
        event.listen(each, "begin", count)
    try:
        turn = await dialogue.handle(IncomingMessage.typed(user, CHANNEL, "工资被拖欠了怎么办"))
    finally:
        for each in turns.engines:
            event.remove(each, "begin", count)
    try:
        assert turn.question is not None and not turn.question.fallback
        # SQLite: one BEGIN (IMMEDIATE). PostgreSQL: the turn sends its BEGIN with the lock and
        # the state's read; SQLAlchemy begins nothing of its own for a plain question.
        assert len(begins) == (1 if engine.dialect.name == "sqlite" else 0)
        if engine.dialect.name == "postgresql":  # the rows' own record of the transaction
            with engine.connect() as connection:
                (state_xmin,) = connection.exec_driver_sql(
                    "SELECT xmin::text FROM conversation WHERE user_key = %s", (user,)
                ).one()
                (question_xmin,) = connection.exec_driver_sql(
                    "SELECT xmin::text FROM question WHERE user_key = %s ORDER BY id DESC LIMIT 1",
                    (user,),
                ).one()
            assert state_xmin == question_xmin
        # The reply's 有用/没用 buttons name the row just written (on PostgreSQL its id was taken
        # from the sequence when the turn opened, and the row written with the commit).
        row = max(questions(engine), key=lambda question: question.id or 0)
        payloads = [choice.payload for choice in turn.replies[-1].choices]
        assert any(payload.endswith(f"{row.id}:1") for payload in payloads), payloads
        feedback = await dialogue.handle(
            IncomingMessage.pressed(user, CHANNEL, next(p for p in payloads if p.endswith(":1")))
        )
        assert feedback.replies
        with Session(engine) as session:
            recorded = session.get(QuestionRow, row.id)
            assert recorded is not None and recorded.useful is True
    finally:
        await turns.close()


def sqlite_only(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("commit groups are SQLite's: PostgreSQL's turns commit side by side")


async def test_sqlite_turns_that_queue_share_a_commit_and_return_only_once_it_is_done(
    engine: Engine, other_process: Engine
) -> None:
    sqlite_only(engine)
    store = SqlDialogueStore(engine)
    commits: list[object] = []

    def count(connection: object) -> None:
        commits.append(connection)

    event.listen(engine, "commit", count)
    people = [f"te-group-{n}" for n in range(12)]
    seen_elsewhere: dict[str, dict[str, object]] = {}

    async def ask(person: str) -> None:
        async with store.turn(person):
            await store.save_state(person, {"known": True, "person": person})
            await asyncio.sleep(0)  # the others queue for the writer meanwhile
        # Returned: committed, so another process reads it at once.
        with Session(other_process) as elsewhere:
            record = elsewhere.get(ConversationRecord, person)
            seen_elsewhere[person] = {} if record is None else dict(record.state)

    try:
        await asyncio.gather(*(ask(person) for person in people))
    finally:
        event.remove(engine, "commit", count)
    assert seen_elsewhere == {p: {"known": True, "person": p} for p in people}
    assert 1 <= len(commits) < len(people)


async def test_sqlite_turns_started_before_the_loop_comes_round_share_a_commit(
    engine: Engine,
) -> None:
    """Turns that never wait inside (every statement inline) still share: a turn ends without
    committing, and those started meanwhile join before the loop comes round to commit."""
    sqlite_only(engine)
    store = SqlDialogueStore(engine)
    commits: list[object] = []

    def count(connection: object) -> None:
        commits.append(connection)

    async def ask(person: str) -> None:
        async with store.turn(person):
            await store.save_state(person, {"known": True})

    event.listen(engine, "commit", count)
    try:
        await asyncio.gather(*(ask(f"te-burst-{n}") for n in range(10)))
    finally:
        event.remove(engine, "commit", count)
    assert 1 <= len(commits) < 10
    with Session(engine) as session:
        assert len(list(session.exec(select(ConversationRecord)))) == 10


async def test_a_failing_turn_in_a_group_loses_only_its_own_writes(engine: Engine) -> None:
    sqlite_only(engine)
    store = SqlDialogueStore(engine)
    entered = asyncio.Event()

    async def fine(person: str) -> None:
        async with store.turn(person):
            await store.save_state(person, {"known": True})
            entered.set()
            await asyncio.sleep(0)

    async def broken() -> None:
        await entered.wait()
        async with store.turn("te-broken"):
            await store.save_state("te-broken", {"known": True})
            await in_transaction(
                engine, lambda s: s.add(ConversationRecord(user_key="te-orm", state={"a": 1}))
            )
            raise RuntimeError("a flow broke")

    results = await asyncio.gather(
        fine("te-fine-1"), broken(), fine("te-fine-2"), fine("te-fine-3"), return_exceptions=True
    )
    assert [type(r) for r in results] == [type(None), RuntimeError, type(None), type(None)]
    with Session(engine) as session:
        kept = {r.user_key for r in session.exec(select(ConversationRecord))}
    assert kept == {"te-fine-1", "te-fine-2", "te-fine-3"}


async def test_a_group_left_by_a_cancelled_waiter_still_commits(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqlite_only(engine)
    monkeypatch.setattr("bot.storage.commit_groups.MAX_GROUP_SECONDS", 60.0)  # never too old here
    turns = TurnTransactions(engine)
    store = SqlDialogueStore(engine, turns)
    holding, release = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with store.turn("te-first"):
            await store.save_state("te-first", {"known": True})
            holding.set()
            await release.wait()

    async def waiter() -> None:
        async with store.turn("te-waiter"):
            await store.save_state("te-waiter", {"known": True})

    task = asyncio.create_task(first())
    await holding.wait()
    waiting = asyncio.create_task(waiter())
    await asyncio.sleep(0.05)  # queued behind the first turn
    release.set()
    # The first turn ends and leaves its group open for the waiter, handed the writer …
    for _ in range(1000):
        if turns._sqlite._group is not None and turns._sqlite._group.turns == 1:
            break
        await asyncio.sleep(0)
    else:
        pytest.fail("the first turn did not leave its group open for the waiter")
    waiting.cancel()  # … which gives up before it runs
    await asyncio.wait_for(task, timeout=10)
    with pytest.raises(asyncio.CancelledError):
        await waiting
    with Session(engine) as session:
        assert session.get(ConversationRecord, "te-first") is not None
        assert session.get(ConversationRecord, "te-waiter") is None


async def test_a_turn_waiting_for_anothers_row_lock_leaves_the_process_running(
    engine: Engine,
) -> None:
    """Two people's turns in one process touch one row: the second waits for the first's lock on
    the turn's thread, so the first can still finish (a loop blocked on that lock would wait for
    itself: here the server gives up after three seconds and the second turn fails)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's turn holds the one writer lock: no row lock waits inside it")

    def give_up_after_three_seconds(dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.execute("SET lock_timeout = '3s'")
        dbapi_connection.commit()

    event.listen(engine, "connect", give_up_after_three_seconds)
    engine.dispose()  # every connection from here on gives up
    turns = TurnTransactions(engine)
    await in_transaction(
        engine, lambda s: s.add(ConversationRecord(user_key="te-shared", state={"n": 0}))
    )

    def lock_shared_row(session: Session) -> None:
        session.exec(
            select(ConversationRecord)
            .where(ConversationRecord.user_key == "te-shared")
            .with_for_update()
        ).one()

    holding, release = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with turns.turn("te-first-person"):
            await in_transaction(engine, lock_shared_row)
            holding.set()
            await release.wait()

    async def second() -> None:
        await holding.wait()
        async with turns.turn("te-second-person"):
            await in_transaction(engine, lock_shared_row)

    try:
        tasks = [asyncio.create_task(first()), asyncio.create_task(second())]
        await holding.wait()
        await asyncio.sleep(0.5)  # the second turn is waiting for the row by now
        release.set()
        await asyncio.gather(*tasks)
    finally:
        await turns.close()


async def test_a_kept_connection_the_server_dropped_is_replaced(
    engine: Engine, other_process: Engine
) -> None:
    """PostgreSQL turns keep their connections between messages (no checkout and ping each);
    one the server has dropped meanwhile (a restart, an idle timeout) gives way to a fresh one."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's turns keep their one connection to a local file")
    store = SqlDialogueStore(engine)
    backends: list[int] = []
    async with store.turn("te-kept"):
        await store.save_state("te-kept", {"known": True})
        backends.append(
            await in_transaction(
                engine,
                lambda s: int(
                    s.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
                ),
            )
        )
    with other_process.connect() as admin:
        admin.exec_driver_sql(f"SELECT pg_terminate_backend({backends[0]})")
        admin.commit()
    await asyncio.sleep(0.2)
    async with store.turn("te-kept"):
        await store.save_state("te-kept", {"known": True, "again": True})
    assert await store.load_state("te-kept") == {"known": True, "again": True}
