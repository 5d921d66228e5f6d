"""A database as release 6a79bf1 left it: its schema (`fixtures/release_6a79bf1.<dialect>.sql`,
the statements its create_all issued) and rows in every table, written on the reflected tables
the way its models stored them (ids from the database's own sequences, JSON, UTC times)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, Table, inspect, select

from bot.storage.engine import create_engine_for
from handlers.cases import BEIJING, CONSENT_VERSION

FIXTURES = Path(__file__).with_name("fixtures")
RELEASE_TABLES = frozenset(
    {
        "document", "clause", "curated_clause", "app_secret", "bot_user", "question",
        "conversation", "numbered_choices", "wechat_receipt", "legal_aid_case", "case_counter",
        "outbox", "campaign", "campaign_arrival", "subscription", "broadcast",
        "broadcast_delivery",
    }
)  # fmt: skip

DOCUMENT_KEY = "tianjin-2022-wage-notice"
SECRET = "user-key-secret-made-by-6a79bf1"
TELEGRAM_WORKER, WECHAT_WORKER, WEB_WORKER, GONE = "te-a", "we-b", "web-c", "te-d"
RECEIPT_KEY = f"msg:{WECHAT_WORKER}:24567890123456"
CAMPAIGN = "chunfeng2027"
BROADCAST_TEXT = "2月20日西青区春风行动招聘会，上午9点开始。"
CHOICES = [["查看原文", "source:tianjin-2022-wage-notice:1.1"], ["找法律援助", "legal_aid"]]
NOTES = [{"author": "甲", "at": "2027-01-15T02:00:00+00:00", "text": "已电话联系，约周五面谈"}]


@dataclass(frozen=True, slots=True)
class Release:
    """What `fill` wrote that a test looks for again."""

    today: str  # the Beijing day the live cases were numbered on, 20270115-style
    claimed_case: str
    pending_case: str
    closed_case: str
    broadcast_id: int
    question_id: int
    draft: dict[str, Any]


def statements(dialect: str) -> list[str]:
    sql = (FIXTURES / f"release_6a79bf1.{dialect}.sql").read_text(encoding="utf-8")
    without_comments = re.sub(r"^--.*$", "", sql, flags=re.MULTILINE)
    return [statement.strip() for statement in without_comments.split(";") if statement.strip()]


def create_release_schema(engine: Engine) -> None:
    with engine.begin() as connection:
        for statement in statements(engine.dialect.name):
            connection.exec_driver_sql(statement)


def _insert(connection: Connection, table: str, row: Mapping[str, Any]) -> Any:
    reflected = Table(table, MetaData(), autoload_with=connection)
    result = connection.execute(reflected.insert().values(**row))
    key = result.inserted_primary_key
    return key[0] if key else None


def fill(engine: Engine, *, now: datetime | None = None) -> Release:
    """Rows in all seventeen tables: a worker mid-referral, cases in each status with a note,
    outbox rows sent and pending, a campaign with arrivals, subscriptions and a half-sent
    broadcast, WeChat's numbered choices and receipts, a document with its curated layer."""
    now = now or datetime.now(UTC)
    earlier = now - timedelta(hours=2)
    day = now.astimezone(BEIJING).strftime("%Y%m%d")
    draft = {
        "step": "confirm",
        "at": (now - timedelta(minutes=1)).isoformat(),
        "consent_at": (now - timedelta(minutes=5)).isoformat(),
        "consent_version": CONSENT_VERSION,
        "category": "wages",
        "district": "西青区",
        "phone": "13812345678",
        "employer": "某某建筑公司",
        "description": "干了三个月，老板一直拖着不发工资",
    }
    with engine.begin() as c:
        _insert(c, "app_secret", {"name": "user_key_hmac", "value": SECRET})
        document_id = _insert(
            c,
            "document",
            {
                "key": DOCUMENT_KEY,
                "title": "关于做好农民工工资支付工作的通知",
                "meta": {"发文机关": "天津市人力资源和社会保障局", "成文日期": "2022年5月1日"},
                "content_hash": "0" * 64,  # any value: the next import of a newer text replaces it
                "short_title": "工资通知",
                "imported_at": earlier,
                "updated_at": earlier,
            },
        )
        for position, (clause_id, kind, title, parent) in enumerate(
            [("1", "part", "一、按时足额支付工资", None), ("1.1", "section", "（一）按月支付", "1")]
        ):
            _insert(
                c,
                "clause",
                {
                    "document_id": document_id, "clause_id": clause_id, "position": position,
                    "kind": kind, "title": title, "text": f"{title}。用人单位应当按月足额支付。",
                    "departments": ["市人社局"], "parent": parent,
                },
            )  # fmt: skip
        _insert(
            c,
            "curated_clause",
            {
                "document_id": document_id, "clause_id": "1.1", "position": 0,
                "title": "工资要按月发", "topic": "wages", "summary": "单位每月至少发一次工资。",
                "next_steps": "保留考勤和工资条。", "ask": "区人社局劳动监察",
                "hotlines": ["12333"], "phrases": ["欠薪", "不发工资"], "no_figure": "",
            },
        )  # fmt: skip
        for user_key, channel, source in [
            (TELEGRAM_WORKER, "telegram", f"{CAMPAIGN}_xiqing"),
            (WECHAT_WORKER, "wechat", None),
            (WEB_WORKER, "web", None),
            (GONE, "telegram", None),
        ]:
            _insert(
                c,
                "bot_user",
                {
                    "user_key": user_key, "channel": channel, "first_seen": earlier,
                    "source": source, "source_at": earlier if source else None,
                    "language": "zh-hans",
                },
            )  # fmt: skip
        question = {
            "channel": "wechat", "score": 0.0, "topic": None, "fallback": True,
            "handoff": False, "latency_ms": 3.5, "useful": None, "asked_at": earlier,
        }  # fmt: skip
        _insert(c, "question", {**question, "user_key": WEB_WORKER, "text": "上海的社保怎么交"})
        question_id = _insert(
            c,
            "question",
            {
                **question, "user_key": WECHAT_WORKER, "document_key": DOCUMENT_KEY,
                "clause_id": "1.1", "score": 7.25, "topic": "wages", "fallback": False,
                "handoff": True, "text": None,
            },
        )  # fmt: skip
        _insert(
            c,
            "conversation",
            {
                "user_key": TELEGRAM_WORKER,
                "state": {"known": True, "script": "simplified", "legal_aid": draft},
                "updated_at": now,
            },
        )
        _insert(
            c,
            "conversation",
            {
                "user_key": WECHAT_WORKER,
                "state": {"known": True, "last_question": {"id": question_id, "text": "老板欠薪"}},
                "updated_at": earlier,
            },
        )
        _insert(
            c,
            "numbered_choices",
            {"user_key": WECHAT_WORKER, "choices": CHOICES, "rest": "……", "updated_at": earlier},
        )
        _insert(
            c,
            "wechat_receipt",
            {"dedupe_key": RECEIPT_KEY, "reply": "回复 1 查看原文", "received_at": earlier},
        )
        _insert(
            c,
            "wechat_receipt",
            {"dedupe_key": f"event:{WECHAT_WORKER}:1768000000", "reply": None, "received_at": now},
        )
        case = {
            "user_key": TELEGRAM_WORKER, "channel": "telegram", "address": "2001",
            "source": f"{CAMPAIGN}_xiqing", "traditional": False, "category": "wages",
            "district": "西青区", "phone": "13812345678", "employer": "某某建筑公司",
            "description": "拖欠两个月工资", "consent_at": earlier,
            "consent_version": CONSENT_VERSION, "created_at": earlier, "notes": [],
        }  # fmt: skip
        claimed_id = _insert(
            c,
            "legal_aid_case",
            {
                **case, "number": f"LA-{day}-0001", "status": "claimed",
                "claimed_by_id": "telegram:1", "claimed_by": "甲", "claimed_at": earlier,
                "notes": NOTES, "card_message_id": "42",
            },
        )  # fmt: skip
        pending_id = _insert(
            c,
            "legal_aid_case",
            {
                **case, "number": f"LA-{day}-0002", "status": "pending", "traditional": True,
                "category": "injury", "description": "工地上摔伤，老板不管",
            },
        )  # fmt: skip
        _insert(
            c,
            "legal_aid_case",
            {
                **case, "number": "LA-20260110-0001", "status": "closed", "user_key": None,
                "address": None, "phone": None, "employer": None, "description": None,
                "closed_by": "乙", "closed_at": earlier, "outcome": "已调解，工资已付",
                "anonymised_at": now, "created_at": earlier - timedelta(days=400),
            },
        )  # fmt: skip
        _insert(c, "case_counter", {"day": day, "last": 2})
        _insert(c, "case_counter", {"day": "20260110", "last": 1})
        message = {
            "channel": "telegram", "address": "-100123", "status": "pending", "attempts": 0,
            "next_attempt_at": earlier, "created_at": earlier,
        }  # fmt: skip
        _insert(
            c,
            "outbox",
            {
                **message, "dedupe_key": f"case:{claimed_id}:card", "kind": "case_card",
                "case_id": claimed_id, "status": "sent", "attempts": 1, "sent_at": earlier,
            },
        )  # fmt: skip
        _insert(
            c,
            "outbox",
            {
                **message, "dedupe_key": f"case:{claimed_id}:claimed", "kind": "worker_notice",
                "address": "2001", "case_id": claimed_id, "event": "claimed", "attempts": 2,
                "last_error": "TimedOut",
            },
        )  # fmt: skip
        _insert(
            c,
            "outbox",
            {
                **message, "dedupe_key": f"case:{pending_id}:card", "kind": "case_card",
                "case_id": pending_id,
            },
        )  # fmt: skip
        _insert(
            c,
            "campaign",
            {
                "code": CAMPAIGN, "name": "春风行动", "starts_on": date(2027, 2, 1),
                "ends_on": date(2027, 3, 31), "topics": ["employment", "campaign"],
                "info": "2月20日西青区招聘会", "created_at": earlier,
            },
        )  # fmt: skip
        _insert(
            c,
            "campaign_arrival",
            {
                "user_key": TELEGRAM_WORKER, "campaign_code": CAMPAIGN, "place": "xiqing",
                "new_user": True, "arrived_at": earlier,
            },
        )  # fmt: skip
        _insert(
            c,
            "subscription",
            {
                "user_key": TELEGRAM_WORKER, "channel": "telegram", "address": "2001",
                "topics": ["jobs"], "active": True, "campaign_code": CAMPAIGN,
                "subscribed_at": earlier, "unsubscribed_at": None,
            },
        )  # fmt: skip
        _insert(
            c,
            "subscription",
            {
                "user_key": GONE, "channel": "telegram", "address": None, "topics": [],
                "active": False, "campaign_code": None, "subscribed_at": earlier,
                "unsubscribed_at": now,
            },
        )  # fmt: skip
        broadcast_id = _insert(
            c,
            "broadcast",
            {
                "campaign_code": CAMPAIGN, "text": BROADCAST_TEXT,
                "text_hash": hashlib.sha256(BROADCAST_TEXT.encode()).hexdigest(),
                "not_before": earlier, "created_at": earlier, "finished_at": None,
            },
        )  # fmt: skip
        for user_key, status in [(TELEGRAM_WORKER, "pending"), (GONE, "gone")]:
            delivery = {"user_key": user_key, "status": status, "attempts": 0, "sent_at": None}
            _insert(c, "broadcast_delivery", {"broadcast_id": broadcast_id, **delivery})
    return Release(
        today=day,
        claimed_case=f"LA-{day}-0001",
        pending_case=f"LA-{day}-0002",
        closed_case="LA-20260110-0001",
        broadcast_id=broadcast_id,
        question_id=question_id,
        draft=draft,
    )


def dump_rows(
    engine: Engine,
    tables: frozenset[str] = RELEASE_TABLES,
    *,
    columns: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, list[Any]]:
    """Every row of `tables`, in primary-key order, as the database hands them back; with
    `columns` (from `columns_of` before an upgrade), only those: later revisions add some."""
    with engine.connect() as connection:
        rows: dict[str, list[Any]] = {}
        for name in sorted(tables):
            table = Table(name, MetaData(), autoload_with=connection)
            ordering = list(table.primary_key.columns)
            chosen = table.columns if columns is None else [table.c[c] for c in columns[name]]
            rows[name] = [
                tuple(row) for row in connection.execute(select(*chosen).order_by(*ordering))
            ]
        return rows


def release_columns() -> dict[str, list[str]]:
    """Each release table's columns, as the release made them (the same on both backends)."""
    engine = create_engine_for("sqlite://")
    try:
        create_release_schema(engine)
        inspector = inspect(engine)
        return {name: [c["name"] for c in inspector.get_columns(name)] for name in RELEASE_TABLES}
    finally:
        engine.dispose()


def snapshot(engine: Engine) -> dict[str, Any]:
    """The schema as SQLAlchemy reads it back: per table its columns (type, nullability, server
    default), primary key, foreign keys, indexes and unique constraints."""
    with engine.connect() as connection:
        inspector = inspect(connection)
        tables: dict[str, Any] = {}
        for table in sorted(set(inspector.get_table_names()) - {"alembic_version"}):
            tables[table] = {
                "columns": [
                    (c["name"], repr(c["type"]), c["nullable"], c.get("default"))
                    for c in inspector.get_columns(table)
                ],
                "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
                "foreign_keys": sorted(
                    (
                        tuple(fk["constrained_columns"]),
                        fk["referred_table"],
                        tuple(fk["referred_columns"]),
                        tuple(sorted(fk["options"].items())),
                    )
                    for fk in inspector.get_foreign_keys(table)
                ),
                "indexes": sorted(
                    (ix["name"], tuple(ix["column_names"]), bool(ix["unique"]))
                    for ix in inspector.get_indexes(table)
                ),
                "unique": sorted(
                    (uq["name"] or "", tuple(uq["column_names"]))
                    for uq in inspector.get_unique_constraints(table)
                ),
            }
        return tables
