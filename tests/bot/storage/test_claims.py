"""Background senders in several processes: two engines (two processes' connection pools) over one
database, each with its own sender, never send a row twice and leave nothing claimed; a claim of
a "dead" sender (taken, never finished) is sent again only after its lease. On SQLite and on
PostgreSQL (when configured); the clock is driven, nothing sleeps for a lease."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session, select

from bot.campaigns.broadcasts import Broadcaster, audience
from bot.campaigns.pacing import SendLimits
from bot.channels.outbox import OutboxSender
from bot.settings import Settings
from bot.storage.claims import Lease, new_lease
from bot.storage.engine import create_engine_for, run_transaction
from bot.storage.models import ConversationRecord, OutboxMessage, utc_now
from bot.storage.repositories import broadcasts, campaigns, outbox
from bot.storage.retention import enforce_retention
from handlers.messages import Reply
from tests.conftest import create_test_engine

MESSAGES = 200
LEASE = timedelta(seconds=60)


class RecordingTransport:
    """The platform: records every send, slowly enough that two senders interleave."""

    channel = "telegram"

    def __init__(self, sent: list[str]) -> None:
        self.sent = sent

    async def send(self, address: str, reply: Reply) -> str:
        await asyncio.sleep(0)
        self.sent.append(address)
        return str(len(self.sent))

    async def edit(self, address: str, message_id: str, reply: Reply) -> None:
        raise AssertionError("no edits here")


@pytest.fixture
def engines(database_url: str) -> Iterator[tuple[Engine, Engine]]:
    first = create_test_engine(database_url)
    second = create_engine_for(database_url)
    yield first, second
    first.dispose()
    second.dispose()


def queue_notices(engine: Engine, count: int) -> None:
    """`count` queued notices, address = their number (the transport records the address)."""

    def work(session: Session) -> None:
        for number in range(count):
            outbox.enqueue(
                dedupe_key=f"k{number}",
                channel="telegram",
                address=str(number),
                kind="worker_notice",
                session=session,
            )

    run_transaction(engine, work)


class DirectSender(OutboxSender):
    """The real sender's claiming, renewing and settling; the send itself goes straight to the
    transport (the case rendering is the case desk's tests' business)."""

    async def _send(self, message: object) -> None:
        assert isinstance(message, OutboxMessage) and message.id is not None
        message_id = message.id
        await self._transport.send(message.address, Reply(text="hi"))
        await self._db(lambda s: outbox.mark_sent(message_id, **self._held(s)))


def sender(engine: Engine, sent: list[str], lease: Lease) -> DirectSender:
    return DirectSender(engine, RecordingTransport(sent), to_traditional=str, lease=lease, batch=7)


async def drain(*senders: DirectSender) -> None:
    async def until_empty(one: DirectSender) -> None:
        while await one.send_due():
            pass

    await asyncio.gather(*(until_empty(one) for one in senders))


async def test_two_senders_send_every_outbox_row_exactly_once(
    engines: tuple[Engine, Engine],
) -> None:
    first, second = engines
    queue_notices(first, MESSAGES)
    sent: list[str] = []
    await drain(sender(first, sent, new_lease("a", 60)), sender(second, sent, new_lease("b", 60)))
    assert Counter(sent) == Counter(str(n) for n in range(MESSAGES))  # each once, none lost
    with Session(first) as session:
        assert outbox.held_count(session=session) == 0
        rows = outbox.list_messages(session=session)
    assert {row.status for row in rows} == {"sent"} and {row.claimed_by for row in rows} == {None}


async def test_a_dead_senders_claim_is_sent_after_its_lease_and_not_before(
    engines: tuple[Engine, Engine],
) -> None:
    first, second = engines
    queue_notices(first, 3)
    now = utc_now()
    dead = Lease("dead", LEASE)
    taken = run_transaction(
        first, lambda s: outbox.lease_due("telegram", lease=dead, limit=2, session=s, now=now)
    )
    assert len(taken) == 2  # claimed, then the process was killed: never finished
    alive = Lease("alive", LEASE)
    soon = run_transaction(
        second,
        lambda s: outbox.lease_due(
            "telegram", lease=alive, limit=10, session=s, now=now + LEASE - timedelta(seconds=1)
        ),
    )
    assert [m.address for m in soon] == ["2"]  # the dead one's claims are not taken yet
    later = run_transaction(
        second,
        lambda s: outbox.lease_due(
            "telegram", lease=alive, limit=10, session=s, now=now + LEASE + timedelta(seconds=1)
        ),
    )
    assert sorted(m.address for m in later) == ["0", "1"]
    # The dead sender, had it woken up, may not write a result nor renew any more.
    assert taken[0].id is not None
    dead_id = taken[0].id
    assert not run_transaction(first, lambda s: outbox.mark_sent(dead_id, holder="dead", session=s))
    assert not run_transaction(first, lambda s: outbox.renew(dead_id, lease=dead, session=s))
    assert run_transaction(second, lambda s: outbox.renew(dead_id, lease=alive, session=s))


async def test_a_killed_claimer_is_resent_by_the_other_and_nothing_goes_twice(
    engines: tuple[Engine, Engine],
) -> None:
    """The real sender loop with a short lease: one sender claims and dies; the other sends
    everything once the lease has passed, each message once."""
    first, second = engines
    queue_notices(first, 20)
    short = timedelta(seconds=1)
    run_transaction(
        first,
        lambda s: outbox.lease_due("telegram", lease=Lease("killed", short), limit=5, session=s),
    )
    sent: list[str] = []
    survivor = sender(second, sent, Lease("survivor", short))
    await drain(survivor)
    assert len(sent) == 15  # the killed one's five wait for their lease
    await asyncio.sleep(1.1)
    await drain(survivor)
    assert Counter(sent) == Counter(str(n) for n in range(20))


class SlowTransport(RecordingTransport):
    """A platform whose every send waits longer than a lease (Telegram's pace for one staff
    chat: a message a second, several senders queueing)."""

    def __init__(self, sent: list[str], seconds: float) -> None:
        super().__init__(sent)
        self.seconds = seconds

    async def send(self, address: str, reply: Reply) -> str:
        await asyncio.sleep(self.seconds)
        return await super().send(address, reply)


async def test_a_live_sender_keeps_its_claims_while_sends_outlast_the_lease(
    engines: tuple[Engine, Engine],
) -> None:
    """Renewed while held: the second sender never takes (and re-sends) the first's rows, even
    though each send takes longer than a lease."""
    first, second = engines
    queue_notices(first, 6)
    sent: list[str] = []
    lease = timedelta(seconds=0.6)
    slow = DirectSender(
        first, SlowTransport(sent, 0.9), to_traditional=str, lease=Lease("slow", lease), batch=6
    )
    other = sender(second, sent, Lease("other", lease))
    claimed = asyncio.create_task(slow.send_due())
    for _ in range(12):  # the other sender keeps looking while the slow one works
        await asyncio.sleep(0.4)
        await other.send_due()
    await claimed
    assert Counter(sent) == Counter(str(n) for n in range(6))


def queue_news(engine: Engine, subscribers: int) -> int:
    """A campaign, `subscribers` Telegram subscribers (chat 9000 on) and a broadcast to them."""

    def work(session: Session) -> int:
        campaign = campaigns.create_campaign(
            "chunfeng2027",
            name="春风行动",
            starts_on=date(2027, 2, 1),
            ends_on=date(2027, 3, 31),
            topics=[],
            info="",
            session=session,
        )
        for number in range(subscribers):
            broadcasts.subscribe(
                f"user{number}", "telegram", address=str(9000 + number), topics=[], session=session
            )
        queued = broadcasts.queue_broadcast(
            campaign, "招聘会", not_before=None, audience=audience(), session=session
        )
        assert queued.broadcast.id is not None
        return queued.broadcast.id

    return run_transaction(engine, work)


@pytest.fixture
def broadcast_engines(engines: tuple[Engine, Engine]) -> tuple[Engine, Engine, int]:
    first, second = engines
    return first, second, queue_news(first, MESSAGES)


class RecordingBot:
    """Just enough of telegram.Bot for the broadcaster: records each chat it was sent to."""

    def __init__(self, sent: list[int]) -> None:
        self.sent = sent

    async def send_message(self, *, chat_id: int, text: str) -> None:
        await asyncio.sleep(0.001)
        self.sent.append(chat_id)


async def test_two_broadcast_senders_share_a_broadcast_without_duplicates(
    broadcast_engines: tuple[Engine, Engine, int],
) -> None:
    first, second, broadcast_id = broadcast_engines
    sent: list[int] = []
    bot = RecordingBot(sent)
    reports = await asyncio.gather(
        Broadcaster(first, bot, lease=new_lease("a", 60)).run(broadcast_id),  # type: ignore[arg-type]
        Broadcaster(second, bot, lease=new_lease("b", 60)).run(broadcast_id),  # type: ignore[arg-type]
    )
    assert Counter(sent) == Counter(9000 + n for n in range(MESSAGES))
    assert all(report.sent > 0 for report in reports), reports  # both did part of the work
    assert sum(report.sent for report in reports) == MESSAGES
    with Session(first) as session:
        assert broadcasts.held_count(broadcast_id, session=session) == 0
        assert broadcasts.delivery_counts(broadcast_id, session=session) == {"sent": MESSAGES}


async def test_a_dead_broadcast_senders_claims_wait_for_their_lease(
    broadcast_engines: tuple[Engine, Engine, int],
) -> None:
    first, second, broadcast_id = broadcast_engines
    now = datetime.now(UTC)
    dead = Lease("dead", LEASE)
    claimed, _ = run_transaction(
        first,
        lambda s: broadcasts.claim_deliveries(broadcast_id, lease=dead, limit=10, session=s),
    )
    sent: list[int] = []
    report = await Broadcaster(second, RecordingBot(sent), lease=new_lease("b", 60)).run(  # type: ignore[arg-type]
        broadcast_id
    )
    assert report.sent == MESSAGES - 10 and report.still_pending == 10
    assert not {int(d.address) for d in claimed} & set(sent)
    alive = Lease("alive", LEASE)
    early = now + LEASE - timedelta(seconds=1)
    late = now + LEASE + timedelta(seconds=2)
    assert run_transaction(
        second,
        lambda s: broadcasts.claim_deliveries(
            broadcast_id, lease=alive, limit=50, session=s, now=early
        ),
    ) == ([], 0)
    again, _ = run_transaction(
        second,
        lambda s: broadcasts.claim_deliveries(
            broadcast_id, lease=alive, limit=50, session=s, now=late
        ),
    )
    assert sorted(d.delivery_id for d in again) == sorted(d.delivery_id for d in claimed)
    first_id = claimed[0].delivery_id
    # The dead sender may neither renew nor record any more.
    assert not run_transaction(
        first, lambda s: broadcasts.set_status([first_id], "sent", holder="dead", session=s)
    )
    assert not run_transaction(first, lambda s: broadcasts.renew(first_id, lease=dead, session=s))


async def test_a_sender_never_claims_again_a_delivery_it_holds(
    broadcast_engines: tuple[Engine, Engine, int],
) -> None:
    """The benchmark's duplicate on SQLite: a delivery in flight, its lease lapsed, is renewed by
    its own send while the same sender's next claim runs, between the claim's SELECT and its
    UPDATE (SQLite has no row locks to keep them apart). The claim must not hand it out again:
    the sender would send it twice."""
    first, second, broadcast_id = broadcast_engines
    start = utc_now()
    mine = Lease("mine", LEASE)
    (in_flight,), _ = run_transaction(
        first,
        lambda s: broadcasts.claim_deliveries(
            broadcast_id, lease=mine, limit=1, session=s, now=start
        ),
    )
    later = start + LEASE + timedelta(seconds=1)
    renewed: list[bool] = []

    def renew_in_between(_connection: object, _cursor: object, statement: str, *_: object) -> None:
        if not renewed and statement.lstrip().upper().startswith("UPDATE BROADCAST_DELIVERY"):
            renewed.append(
                run_transaction(
                    second,
                    lambda s: broadcasts.renew(
                        in_flight.delivery_id, lease=mine, session=s, now=later
                    ),
                )
            )

    event.listen(first, "before_cursor_execute", renew_in_between)
    try:
        claimed, _ = run_transaction(
            first,
            lambda s: broadcasts.claim_deliveries(
                broadcast_id, lease=mine, limit=5, session=s, now=later
            ),
        )
    finally:
        event.remove(first, "before_cursor_execute", renew_in_between)
    assert renewed == [True]
    assert in_flight.delivery_id not in {d.delivery_id for d in claimed}
    assert len(claimed) == 5  # the next five instead


def test_a_lapsed_claim_goes_to_another_sender_not_back_to_its_holder(
    engines: tuple[Engine, Engine],
) -> None:
    """The holder of a lapsed claim still has the row in hand; only another sender takes it."""
    first, second = engines
    queue_notices(first, 3)
    now = utc_now()
    slow = Lease("slow", LEASE)
    (held,) = run_transaction(
        first, lambda s: outbox.lease_due("telegram", lease=slow, limit=1, session=s, now=now)
    )
    later = now + LEASE + timedelta(seconds=1)
    again = run_transaction(
        first, lambda s: outbox.lease_due("telegram", lease=slow, limit=10, session=s, now=later)
    )
    assert held.id not in {m.id for m in again} and len(again) == 2
    other = Lease("other", LEASE)
    taken = run_transaction(
        second, lambda s: outbox.lease_due("telegram", lease=other, limit=10, session=s, now=later)
    )
    assert [m.id for m in taken] == [held.id]


class SlowBot(RecordingBot):
    """Sends that take longer than a lease: the turn in Telegram's pace shared with other
    processes, a staff chat's one message a second."""

    def __init__(self, sent: list[int], seconds: float) -> None:
        super().__init__(sent)
        self.seconds = seconds

    async def send_message(self, *, chat_id: int, text: str) -> None:
        await asyncio.sleep(self.seconds)
        self.sent.append(chat_id)


async def test_a_live_broadcast_sender_keeps_its_deliveries_while_sends_outlast_the_lease(
    engines: tuple[Engine, Engine],
) -> None:
    """Its claims kept alive, in flight or waiting for a slot: another sender looking meanwhile
    finds nothing to take, and nobody gets the news twice."""
    first, second = engines
    broadcast_id = queue_news(first, 6)
    sent: list[int] = []
    lease = timedelta(seconds=0.45)
    slow = Broadcaster(
        first,
        SlowBot(sent, 0.8),  # type: ignore[arg-type]
        limits=SendLimits(messages_per_second=1000.0, max_in_flight=3),
        lease=Lease("slow", lease),
    )
    running = asyncio.create_task(slow.run(broadcast_id))
    others = []
    while not running.done():
        await asyncio.sleep(0.3)
        other = Broadcaster(second, RecordingBot(sent), lease=Lease("other", lease))  # type: ignore[arg-type]
        others.append(await other.run(broadcast_id))
    assert Counter(sent) == Counter(9000 + n for n in range(6))
    assert (await running).sent == 6 and sum(report.sent for report in others) == 0


def test_retention_from_two_processes_at_once_is_harmless(
    engines: tuple[Engine, Engine],
) -> None:
    first, second = engines
    old = utc_now() - timedelta(days=400)

    def fill(session: Session) -> None:
        for number in range(200):
            session.add(
                ConversationRecord(
                    user_key=f"u{number}",
                    state={"legal_aid": {"phone": "13800000000"}, "n": number},
                    updated_at=old if number % 2 else utc_now() - timedelta(hours=2),
                )
            )

    run_transaction(first, fill)
    settings = Settings()
    failures: list[BaseException] = []

    def purge(engine: Engine) -> None:
        try:
            for _ in range(5):
                enforce_retention(settings, engine)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=purge, args=(engine,)) for engine in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with Session(first) as session:
        left = session.exec(select(ConversationRecord)).all()
    assert len(left) == 100  # the idle ones are gone, once, without an error
    assert all("legal_aid" not in record.state for record in left)  # drafts past the timeout
