"""/healthz says ready only when the database (and Redis, when configured) answer; /metrics
speaks Prometheus' text format from a registry each app owns."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session

from bot.monitoring.readiness import Readiness
from bot.storage.engine import create_engine_for
from bot.storage.models import BroadcastRecord, DeliveryRecord
from bot.storage.repositories.outbox import enqueue
from knowledge.match import Matcher
from tests.bot.server_harness import Server, engine_in, running_server, settings_for
from tests.conftest import free_port

SESSION = "s" * 20 + "_monitoring"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample by name and labels (parsing fails on anything not in the text format)."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def scrape(server: Server) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await server.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


async def test_ready_with_redis_configured(
    tmp_path: Path, plan_matcher: Matcher, redis_section: dict[str, str]
) -> None:
    settings = settings_for(tmp_path, redis=redis_section)
    async with running_server(settings, engine_in(tmp_path), plan_matcher) as server:
        response = await server.http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"ready": True, "database": "ok", "redis": "ok", "limiter": "redis"}


async def test_a_redis_that_does_not_answer_makes_the_process_unready(
    tmp_path: Path, plan_matcher: Matcher
) -> None:
    closed = {"url": f"redis://127.0.0.1:{free_port()}/0"}
    settings = settings_for(tmp_path, redis=closed)
    async with running_server(settings, engine_in(tmp_path), plan_matcher) as server:
        response = await server.http.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "ready": False,
        "database": "ok",
        "redis": "failed",
        "limiter": "redis",
    }


async def test_a_database_that_does_not_answer_makes_the_process_unready() -> None:
    nowhere = create_engine_for(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none")
    try:
        report = await Readiness(nowhere, None).report()
    finally:
        nowhere.dispose()
    assert report == {
        "ready": False,
        "database": "failed",
        "redis": "not configured",
        "limiter": "process",
    }


async def test_metrics_count_a_web_chat_answer_and_its_request(
    tmp_path: Path, plan_matcher: Matcher
) -> None:
    engine = engine_in(tmp_path)
    settings = settings_for(tmp_path)
    async with (
        running_server(settings, engine, plan_matcher) as server,
        running_server(settings, engine, plan_matcher) as other,
    ):
        before = await scrape(server)
        answer = await server.http.post(
            "/api/chat", json={"session": SESSION, "text": "孩子能上公办学校吗"}
        )
        assert answer.status_code == 200
        unknown = await server.http.post("/api/chat", json={"session": SESSION, "text": "天气"})
        assert unknown.status_code == 200
        await server.http.get("/no-such-page")
        after = await scrape(server)
        elsewhere = await scrape(other)
    answered = ("policybot_answers_total", (("channel", "web"), ("verdict", "answered")))
    fallback = ("policybot_answers_total", (("channel", "web"), ("verdict", "fallback")))
    assert answered not in before and after[answered] == 1 and after[fallback] == 1
    latency = ("policybot_answer_latency_seconds_count", (("channel", "web"),))
    assert after[latency] == 2
    requests = ("policybot_http_requests_total", (("route", "/api/chat"), ("status", "200")))
    assert after[requests] == 2
    unmatched = ("policybot_http_requests_total", (("route", "unmatched"), ("status", "404")))
    assert after[unmatched] == 1
    # Another app in the same process has its own registry: it counted nothing.
    assert answered not in elsewhere


async def test_metrics_read_the_outbox_backlog_and_running_broadcasts_at_scrape_time(
    tmp_path: Path, plan_matcher: Matcher
) -> None:
    engine = engine_in(tmp_path)
    async with running_server(settings_for(tmp_path), engine, plan_matcher) as server:
        with Session(engine) as session:
            for n in range(3):
                enqueue(
                    dedupe_key=f"notice-{n}",
                    channel="telegram",
                    address=str(n),
                    kind="worker_notice",
                    session=session,
                )
            running = BroadcastRecord(campaign_code="chunfeng", text="招聘会", text_hash="h1")
            done = BroadcastRecord(campaign_code="chunfeng", text="旧消息", text_hash="h2")
            session.add_all([running, done])
            session.flush()
            assert running.id is not None and done.id is not None
            done.finished_at = done.created_at
            statuses = ["pending", "pending", "sent", "failed"]
            session.add_all(
                DeliveryRecord(broadcast_id=running.id, user_key=f"u{n}", status=status)
                for n, status in enumerate(statuses)
            )
            session.add(DeliveryRecord(broadcast_id=done.id, user_key="u0", status="sent"))
            session.commit()
            running_id = str(running.id)
        found = await scrape(server)
    backlog = ("policybot_outbox_backlog", (("channel", "telegram"), ("status", "pending")))
    assert found[backlog] == 3

    def deliveries(state: str) -> float:
        return found[
            ("policybot_broadcast_deliveries", (("broadcast", running_id), ("state", state)))
        ]

    assert (deliveries("queued"), deliveries("sent"), deliveries("failed")) == (2, 1, 1)
    finished = {labels for name, labels in found if name == "policybot_broadcast_deliveries"}
    assert all(dict(labels)["broadcast"] == running_id for labels in finished)
