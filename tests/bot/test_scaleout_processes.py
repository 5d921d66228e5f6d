"""Three real `policybot serve` processes on one fresh PostgreSQL database and one Redis, as the
union runs them behind a proxy: 300 web-chat sessions × 5 everyday questions at random processes,
30 Telegram legal-aid referrals whose consecutive updates hop between processes (10 of them tap
确认提交 at two processes at once), one session hammering all three for the per-session limit,
and one process killed with SIGKILL while the referrals are in flight.

Afterwards: every referral is exactly one case, with a unique number and the worker's answers;
every staff card and every worker notice reached the fake Bot API exactly once; the session got
at most the per-session limit in all; no outbox or broadcast row is left pending or claimed.
Every check runs and the failures are reported together.

Needs POLICYBOT_TEST_DATABASE_URL and POLICYBOT_TEST_REDIS_URL (skipped cleanly otherwise).
`[redis] url` and `[senders] lease_seconds` are passed only where Settings has them; on a
checkout without them the test runs anyway and fails where the processes don't act as one.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.campaigns.pacing import SendLimits
from bot.storage.engine import create_engine_for
from bot.storage.models import DeliveryRecord, LegalAidCase, OutboxMessage
from handlers import texts
from tests.bot.scaleout_broadcast import BroadcastSenders, queue_broadcast
from tests.bot.scaleout_cluster import (
    Cluster,
    fresh_postgres_database,
    health,
    scaleout_settings,
    upgrade_database,
)
from tests.bot.scaleout_load import WebLoad, hammer
from tests.bot.scaleout_referrals import (
    STEPS,
    WEBHOOK_PATH,
    Referral,
    ReferralDriver,
    make_referrals,
)
from tests.fake_telegram import DEFAULT_TOKEN, FakeTelegramServer

REDIS_URL_ENV = "POLICYBOT_TEST_REDIS_URL"
PROCESSES = 3
SESSIONS, MESSAGES, WEB_CONCURRENCY = 300, 5, 24
REFERRALS, DOUBLED = 30, 10
SUBSCRIBERS = 120
PER_SESSION_LIMIT = 30
LEASE_SECONDS = 3.0
# Waiting for the survivors' senders: a bound on a hang only (the lease plus slow polls).
SETTLE_TIMEOUT_SECONDS = 90.0
STAFF_USER, STAFF_CHAT = 3001, -1001234567890
WEBHOOK_SECRET = "scaleout-webhook-secret"
UNSETTLED = ("pending", "sending", "claimed")


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get(REDIS_URL_ENV, "").strip()
    if not url:
        pytest.skip(f"{REDIS_URL_ENV} is not set")
    if not redis_answers(url):
        pytest.skip(f"Redis at {REDIS_URL_ENV} does not answer")
    return url


def redis_answers(url: str) -> bool:
    """PING over a plain socket (the test itself needs no Redis client)."""
    parsed = urlsplit(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or 6379), 2
        ) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith((b"+PONG", b"-NOAUTH"))
    except OSError:
        return False


@pytest.fixture
def scaleout_database(postgres_server_url: str, redis_url: str) -> Iterator[str]:
    with fresh_postgres_database(postgres_server_url, "test_scaleout") as url:
        yield url


def process_settings(
    server: FakeTelegramServer, redis_url: str
) -> tuple[dict[str, str], tuple[str, ...]]:
    optional = scaleout_settings(redis_url, LEASE_SECONDS)
    settings = {
        "POLICYBOT_TELEGRAM__TOKEN": DEFAULT_TOKEN,
        "POLICYBOT_TELEGRAM__BASE_URL": server.base_url,
        "POLICYBOT_TELEGRAM__BASE_FILE_URL": server.base_file_url,
        "POLICYBOT_TELEGRAM__WEBHOOK_SECRET": WEBHOOK_SECRET,
        "POLICYBOT_LEGAL_AID__STAFF_CHAT_ID": str(STAFF_CHAT),
        "POLICYBOT_LEGAL_AID__STAFF_USER_IDS": f"[{STAFF_USER}]",
        "POLICYBOT_WEB_CHAT__REQUESTS_PER_MINUTE_PER_SESSION": str(PER_SESSION_LIMIT),
        "POLICYBOT_WEB_CHAT__TRUSTED_PROXIES": '["127.0.0.1"]',
        "POLICYBOT_LOGGING__LEVEL": "WARNING",
        **optional.environment,
    }
    return settings, optional.missing


async def kill_midway(cluster: Cluster, driver: ReferralDriver, figures: dict[str, object]) -> None:
    """SIGKILL one process once half of the referrals' steps are answered."""
    while driver.steps_done < REFERRALS * STEPS // 2:
        await asyncio.sleep(0.05)
    victim = cluster.processes[0]
    figures["steps_done_at_kill"] = driver.steps_done
    cluster.kill(victim)


async def broadcast_with_a_kill(
    senders: BroadcastSenders, first_chat: int, figures: dict[str, object]
) -> None:
    """Two senders of one broadcast, one SIGKILLed a third of the way; after the lease the
    command is run once more, as an operator is told to."""
    await senders.start(2)
    figures["broadcast_sender_killed"] = await senders.kill_one_after(
        first_chat, SUBSCRIBERS, SUBSCRIBERS // 3
    )
    await senders.wait()
    await asyncio.sleep(LEASE_SECONDS + 2)  # the killed sender's claims lapse
    await senders.start(1)
    await senders.wait()


def broadcast_problems(delivered: Counter[int], first_chat: int, killed: object) -> list[str]:
    """Everyone got the news; twice only for the few a SIGKILL caught between Telegram's answer
    and the commit (at most the sends in flight), never otherwise."""
    lost = [chat for chat in range(first_chat, first_chat + SUBSCRIBERS) if not delivered[chat]]
    duplicates = sum(count - 1 for count in delivered.values())
    allowed = SendLimits().max_in_flight if killed else 0
    problems = [f"broadcast: {len(lost)} of {SUBSCRIBERS} subscribers never got it"] if lost else []
    if duplicates > allowed:
        problems.append(
            f"broadcast: {duplicates} duplicate deliveries by two senders (allowed {allowed})"
        )
    return problems


async def metrics_problems(http: httpx.AsyncClient, cluster: Cluster) -> tuple[list[str], bool]:
    """/metrics of a live process in Prometheus text; (problems, whether it exists)."""
    response = await http.get(f"{cluster.live()[0].base_url}/metrics", timeout=30)
    if response.status_code == 404:
        return [], False
    if response.status_code != 200 or "# TYPE" not in response.text:
        return [f"/metrics: {response.status_code} {response.text[:200]!r}"], True
    return [], True


async def settle(database_url: str) -> dict[str, int]:
    """Wait until no outbox row or broadcast delivery is pending or claimed (or the bound);
    returns what is still unsettled by status."""
    engine = create_engine_for(database_url)
    deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
    try:
        while True:
            with Session(engine) as session:
                left = Counter(
                    {
                        f"outbox {status}": count
                        for status, count in session.exec(
                            select(OutboxMessage.status, func.count()).group_by(
                                OutboxMessage.status
                            )
                        )
                        if status != "sent"
                    }
                )
                left.update(
                    {
                        f"delivery {status}": count
                        for status, count in session.exec(
                            select(DeliveryRecord.status, func.count())
                            .where(col(DeliveryRecord.status).in_(UNSETTLED))
                            .group_by(DeliveryRecord.status)
                        )
                    }
                )
            if not left or time.monotonic() > deadline:
                return dict(left)
            await asyncio.sleep(0.5)
    finally:
        engine.dispose()


def cases_by_phone(database_url: str) -> dict[str, list[LegalAidCase]]:
    engine = create_engine_for(database_url)
    try:
        with Session(engine) as session:
            rows = list(session.exec(select(LegalAidCase)))
    finally:
        engine.dispose()
    found: dict[str, list[LegalAidCase]] = {}
    for row in rows:
        found.setdefault(row.phone or "", []).append(row)
    return found


def referral_problems(
    referrals: list[Referral], cases: dict[str, list[LegalAidCase]], server: FakeTelegramServer
) -> list[str]:
    problems: list[str] = []
    numbers = [case.number for rows in cases.values() for case in rows]
    if len(numbers) != len(set(numbers)):
        problems.append(
            f"case numbers not unique: {sorted(n for n, c in Counter(numbers).items() if c > 1)}"
        )
    if len(numbers) != len(referrals):
        problems.append(f"{len(numbers)} cases for {len(referrals)} referrals")
    for referral in referrals:
        rows = cases.get(referral.phone, [])
        who = f"worker {referral.user}{' (doubled submit)' if referral.double_submit else ''}"
        problems += [f"{who}: {problem}" for problem in referral.problems]
        if len(rows) != 1:
            problems.append(f"{who}: {len(rows)} cases {[row.number for row in rows]}")
        for row in rows:
            expected = (
                referral.category,
                referral.district,
                referral.employer,
                referral.description,
            )
            if (row.category, row.district, row.employer, row.description) != expected:
                problems.append(f"{who}: case {row.number} holds another's answers")
        if rows and referral.number not in {row.number for row in rows}:
            problems.append(
                f"{who}: receipt showed {referral.number}, cases {[r.number for r in rows]}"
            )
        for row in rows:
            cards = [
                call
                for call in server.messages_to(STAFF_CHAT)
                if row.number in (call.shown_text or call.text or "")
            ]
            if len(cards) != 1:
                problems.append(f"{who}: staff card for {row.number} delivered {len(cards)} times")
            notice = texts.NOTICE_CLAIMED.format(number=row.number)
            notices = [
                call
                for call in server.messages_to(referral.user)
                if notice in (call.shown_text or call.text or "")
            ]
            if referral.claimed and referral.number == row.number and len(notices) != 1:
                problems.append(
                    f"{who}: worker notice for {row.number} delivered {len(notices)} times"
                )
    return problems


async def test_three_processes_act_as_one_bot_under_load_and_a_kill(
    tmp_path: Path, scaleout_database: str, redis_url: str, record_property: pytest.RecordProperty
) -> None:
    rng = random.Random(13)
    run_id = uuid.uuid4().hex[:8]
    figures: dict[str, object] = {}
    problems: list[str] = []
    upgrade_database(tmp_path, scaleout_database)
    async with FakeTelegramServer() as server, httpx.AsyncClient() as http:
        server.add_user(STAFF_USER, first_name="王", last_name="律师")
        settings, missing = process_settings(server, redis_url)
        cluster = Cluster.of(
            PROCESSES, tmp_path, scaleout_database, settings, webhook_path=WEBHOOK_PATH
        )
        first_subscriber = 900_000 + rng.randrange(10**5)
        (tmp_path / "broadcast").mkdir()
        senders = BroadcastSenders(tmp_path / "broadcast", scaleout_database, server, settings)
        try:
            problems += await cluster.start()
            for process in cluster.processes:
                status, body = await health(http, process)
                if status != 200 or body.get("ready", True) is not True:
                    problems.append(f"{process.base_url}/healthz: {status} {body}")
            burst = await hammer(
                cluster, http, f"scaleout-hammer-{run_id}", 3 * PER_SESSION_LIMIT, concurrency=6
            )
            allowed = burst.allowed(PER_SESSION_LIMIT)
            figures["hammer"] = f"{burst.accepted}/{burst.sent} in {burst.seconds:.1f} s"
            if burst.accepted > allowed:
                problems.append(
                    f"one session got {burst.accepted} answers from {PROCESSES} processes in "
                    f"{burst.seconds:.1f} s; the per-session limit allows {allowed}"
                )
            queue_broadcast(scaleout_database, first_subscriber, SUBSCRIBERS)
            referrals = make_referrals(REFERRALS, rng, 700_000 + rng.randrange(10**5), DOUBLED)
            driver = ReferralDriver(
                server, cluster, http, WEBHOOK_SECRET, STAFF_USER, STAFF_CHAT, rng
            )
            web = WebLoad(cluster, http, rng, run_id)
            began = time.monotonic()
            await asyncio.gather(
                web.run(SESSIONS, MESSAGES, WEB_CONCURRENCY),
                kill_midway(cluster, driver, figures),
                broadcast_with_a_kill(senders, first_subscriber, figures),
                *(driver.run(referral) for referral in referrals),
            )
            figures["load_seconds"] = round(time.monotonic() - began, 1)
            if not cluster.killed or figures["steps_done_at_kill"] == REFERRALS * STEPS:
                problems.append(f"the kill did not land while referrals were in flight: {figures}")
            found, present = await metrics_problems(http, cluster)
            problems += found
            missing += () if present else ("/metrics",)
            left = await settle(scaleout_database)
            if left:
                problems.append(f"left unsettled after {SETTLE_TIMEOUT_SECONDS:.0f} s: {left}")
            await asyncio.sleep(1.0)  # a send already under way reaches the fake server
        finally:
            await senders.stop()
            cluster.stop()
        figures.update(
            web_statuses=dict(web.statuses), web_resends=web.resends, retaps=driver.retaps
        )
        if web.unanswered or set(web.statuses) - {200}:
            problems.append(f"web chat: {dict(web.statuses)}, unanswered {web.unanswered}")
        problems += referral_problems(referrals, cases_by_phone(scaleout_database), server)
        problems += broadcast_problems(
            senders.delivered(first_subscriber, SUBSCRIBERS),
            first_subscriber,
            figures.get("broadcast_sender_killed"),
        )
    for name, value in figures.items():
        record_property(name, value)
    print(f"\nfigures {figures}; settings this checkout lacks: {missing or 'none'}")
    assert not problems, "\n".join(problems) + f"\n(lacking {missing})\n" + cluster.logs()[-6000:]
