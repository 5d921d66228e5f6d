"""The composition root, the one place that wires: settings → storage → dialogue → channels →
senders. The CLI, the server and the benchmark scripts all start from `build_app`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from bot.campaigns.job_digests import JobDigests
from bot.campaigns.pacing import SendLimits
from bot.channels.base import ChannelDeps, ChannelParts
from bot.channels.outbox import OutboxBell, OutboxSender, OutboxTransport
from bot.channels.registry import CHANNELS
from bot.events import log_event
from bot.knowledge_base import build_knowledge, import_startup_sources
from bot.limits.shared_redis import SharedRedis
from bot.live_knowledge import LiveKnowledge
from bot.monitoring.backlog import BacklogCollector
from bot.monitoring.metrics import Metrics
from bot.monitoring.observed_dialogue import ObservedDialogue
from bot.settings import Settings
from bot.storage.campaign_store import SqlCampaignNotices, SqlSubscriptionStore
from bot.storage.case_desk import SqlCaseDesk
from bot.storage.channel_store import ChannelStore
from bot.storage.claims import new_lease
from bot.storage.dialogue_store import SqlDialogueStore
from bot.storage.engine import create_engine_for, run_transaction
from bot.storage.job_board import SqlJobBoard
from bot.storage.models import utc_now
from bot.storage.repositories.app_secret import get_or_create_secret
from bot.storage.repositories.knowledge_additions import current_revision
from bot.storage.retention import enforce_retention
from bot.storage.schema import prepare_schema
from bot.storage.turns import TurnTransactions
from bot.user_keys import UserKeyHasher
from handlers.casework import Casework
from handlers.dialogue import Dialogue
from handlers.flows import build_dialogue
from handlers.jobs import JobsFlow
from handlers.legal_aid import LegalAidFlow
from handlers.subscriptions import Subscriptions
from knowledge.jobs import load_job_tables
from knowledge.match import Matcher

if TYPE_CHECKING:
    from bot.console.passwords import Passwords

USER_KEY_SECRET_NAME = "user_key_hmac"
# Channels whose outbox transport can reach a person later, so job digests can be pushed there.
PUSH_CHANNELS = frozenset({"telegram", "wechat"})
# A campaign an organiser starts shows in answers within this many seconds in every process.
CAMPAIGN_NOTICES_FRESH_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class App:
    """The wired parts; `channels` builds the platforms on top of them."""

    settings: Settings
    engine: Engine
    # The matcher in use, rebuilt when curators add phrases or synonyms.
    knowledge: LiveKnowledge
    dialogue: Dialogue
    user_keys: UserKeyHasher
    casework: Casework
    store: ChannelStore
    # Rung by the case desk after it commits something to send; every outbox sender listens.
    bell: OutboxBell
    # Cases on the database: the Telegram card (through `casework`) and the console share it.
    desk: SqlCaseDesk
    # The daily job digests, sent beside each channel's outbox.
    digests: JobDigests
    # This process's metrics (/metrics), counted where the channels hand over their messages.
    metrics: Metrics
    # The dialogue's turns (their own connections on PostgreSQL), closed at shutdown.
    turns: TurnTransactions
    # The process's one Redis client (`[redis] url`), closed by the server at shutdown; None:
    # every limit is kept in this process's memory.
    redis: SharedRedis | None = None

    @property
    def matcher(self) -> Matcher:
        return self.knowledge.matcher

    async def send_outbox(self, transport: OutboxTransport) -> None:
        """The outbox sender for one channel's transport, until cancelled."""
        sender = OutboxSender(
            self.engine,
            transport,
            to_traditional=self.matcher.converter.to_traditional,
            lease=new_lease(f"outbox-{transport.channel}", self.settings.senders.lease_seconds),
            wakeup=self.bell.listener(),
        )
        await asyncio.gather(sender.run(), self.digests.run(transport))

    def channels(
        self, *, alone: bool = False, webhook_url: str | None = None
    ) -> list[ChannelParts]:
        """Every registered channel that is configured, built on this application."""
        deps = ChannelDeps(
            settings=self.settings,
            engine=self.engine,
            dialogue=ObservedDialogue(self.dialogue, self.metrics),
            user_keys=self.user_keys,
            casework=self.casework,
            converter=self.matcher.converter,
            store=self.store,
            send_outbox=self.send_outbox,
            alone=alone,
            webhook_url=webhook_url,
            redis=self.redis,
        )
        return [parts for spec in CHANNELS if (parts := spec.build(deps)) is not None]

    def served(self, *, webhook_url: str | None = None) -> list[ChannelParts]:
        """What the shared server mounts: the configured channels, then the staff console."""
        return [*self.channels(webhook_url=webhook_url), self.console()]

    def console(self, passwords: Passwords | None = None) -> ChannelParts:
        """The staff console's routes and upkeep, mounted by the server beside the channels."""
        from bot.console.site import ConsoleDeps, build_console

        return build_console(
            ConsoleDeps(
                settings=self.settings,
                engine=self.engine,
                knowledge=self.knowledge,
                desk=self.desk,
                passwords=passwords,
            )
        )

    def upkeep(self, channels: Sequence[ChannelParts] = ()) -> None:
        """One housekeeping round (synchronous): retention, then each channel's own upkeep."""
        enforce_retention(self.settings, self.engine)
        for parts in channels:
            for work in parts.upkeep:
                work()

    async def housekeeping(self, channels: Sequence[ChannelParts] = ()) -> None:
        """The round in a worker thread, so the event loop never waits on it."""
        await asyncio.to_thread(self.upkeep, channels)

    async def close(self) -> None:
        """What the process holds open beside the engine: the turns' connections, the Redis client."""
        await self.turns.close()
        if self.redis is not None:
            await self.redis.aclose()


def prepare_engine(settings: Settings) -> Engine:
    """The database engine, its schema at head: SQLite upgrades itself (a backup copy of the file
    first); PostgreSQL must have had `policybot db upgrade`, else SchemaError says so."""
    engine = create_engine_for(settings.database.url, echo=settings.database.echo)
    try:
        report = prepare_schema(engine)
    except BaseException:
        engine.dispose()
        raise
    if report is not None and report.changed:
        log_event(
            "schema_upgraded",
            before=report.before or "empty",
            after=report.after,
            backup=str(report.backup or ""),
        )
    return engine


def import_knowledge(settings: Settings, engine: Engine) -> None:
    """Bundled library imported (first start, or a newer bundled text) with the extra sources."""
    started = time.perf_counter()
    reports = import_startup_sources(engine, list(settings.knowledge.extra_sources))
    log_event(
        "knowledge_imported",
        documents=len(reports),
        imported=sum(1 for r in reports if r.outcome != "unchanged"),
        seconds=round(time.perf_counter() - started, 3),
    )


def prepare_knowledge(settings: Settings, engine: Engine) -> tuple[int, Matcher]:
    """Knowledge imported, index built once with the curators' additions (and their revision)."""
    import_knowledge(settings, engine)
    started = time.perf_counter()
    revision, matcher = build_knowledge(engine)
    log_event(
        "knowledge_ready",
        clauses=len(matcher.entries),
        revision=revision,
        seconds=round(time.perf_counter() - started, 3),
    )
    return revision, matcher


def prepare_matcher(settings: Settings, engine: Engine) -> Matcher:
    return prepare_knowledge(settings, engine)[1]


def user_key_secret(settings: Settings, engine: Engine) -> str:
    """The configured secret, else the one this database generated on its first start."""
    configured = settings.privacy.user_key_secret
    if configured is not None:
        return configured.get_secret_value()
    return run_transaction(engine, lambda s: get_or_create_secret(USER_KEY_SECRET_NAME, session=s))


def build_app(settings: Settings) -> App:
    """Production: the database from the settings, the knowledge base imported and indexed."""
    engine = prepare_engine(settings)
    revision, matcher = prepare_knowledge(settings, engine)
    return compose(
        settings,
        engine=engine,
        matcher=matcher,
        secret=user_key_secret(settings, engine),
        revision=revision,
    )


def current_knowledge_revision(engine: Engine) -> int:
    return run_transaction(engine, lambda s: current_revision(session=s))


def compose(
    settings: Settings,
    *,
    engine: Engine,
    matcher: Matcher,
    secret: str,
    revision: int | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> App:
    """The wiring alone, on a ready engine and index (tests hand in their own). `revision` is the
    additions' revision the matcher was built at (None: the database's current one); `clock` is
    the time the job digests go by (tests drive it)."""
    knowledge = LiveKnowledge(
        engine,
        matcher,
        current_knowledge_revision(engine) if revision is None else revision,
        build=lambda: build_knowledge(engine),
        check_seconds=settings.console.knowledge_check_seconds,
    )
    staff_chat = next(
        (chat for spec in CHANNELS if (chat := spec.staff_chat(settings)) is not None), None
    )
    staff_ids = frozenset().union(*(spec.staff_ids(settings) for spec in CHANNELS))
    bell = OutboxBell()
    desk = SqlCaseDesk(engine, staff_chat=staff_chat, on_queued=bell.ring)
    turns = TurnTransactions(engine)
    store = SqlDialogueStore(engine, turns)
    legal_aid = settings.legal_aid
    flow = LegalAidFlow(
        desk,
        timeout=timedelta(minutes=legal_aid.flow_timeout_minutes),
        retention_days=settings.privacy.case_retention_days,
        to_simplified=matcher.converter.to_simplified,
    )
    broadcast_channels = frozenset(spec.name for spec in CHANNELS if spec.sends_broadcasts)
    job_tables = load_job_tables()
    jobs = settings.jobs
    jobs_flow = JobsFlow(
        SqlJobBoard(engine, job_tables, now=clock),
        job_tables,
        to_simplified=matcher.converter.to_simplified,
        push_channels=PUSH_CHANNELS,
        digest_hour=jobs.digest_hour,
        digest_limit=jobs.digest_max_postings,
    )
    dialogue = build_dialogue(
        knowledge,
        store,
        legal_aid=flow,
        subscriptions=Subscriptions(
            SqlSubscriptionStore(engine), broadcast_channels=broadcast_channels
        ),
        campaigns=SqlCampaignNotices(engine, fresh_for=CAMPAIGN_NOTICES_FRESH_SECONDS),
        jobs=jobs_flow,
    )
    metrics = Metrics()
    metrics.add(BacklogCollector(engine))
    return App(
        settings=settings,
        engine=engine,
        knowledge=knowledge,
        dialogue=dialogue,
        user_keys=UserKeyHasher(secret),
        casework=Casework(desk, store, staff_ids=staff_ids),
        store=ChannelStore(engine),
        bell=bell,
        desk=desk,
        turns=turns,
        digests=JobDigests(
            engine,
            job_tables,
            hour=jobs.digest_hour,
            limit=jobs.digest_max_postings,
            limits=SendLimits.from_settings(settings.broadcast),
            check_seconds=jobs.check_seconds,
            lease_seconds=settings.senders.lease_seconds,
            now=clock,
        ),
        metrics=metrics,
        redis=SharedRedis.from_settings(settings.redis),
    )
