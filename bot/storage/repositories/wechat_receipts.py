"""Which WeChat messages were already received, and the reply each got (WeChat retries for 15 s)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete

from bot.storage.models import WechatReceiptRecord, utc_now

# WeChat retries within about 15 seconds; a stored reply may hold what the person typed (a phone
# number echoed back), so receipts are forgotten soon after — but never sooner than this.
RECEIPT_RETENTION = timedelta(minutes=10)


def claim_receipt(dedupe_key: str, *, keep_for: timedelta, session: Session) -> bool:
    """True for the first delivery of a message; False for a retry (any process may have it).

    Receipts older than `keep_for` are dropped in the same transaction, so none outlive it long.
    """
    purge_receipts(older_than=keep_for, session=session)
    session.add(WechatReceiptRecord(dedupe_key=dedupe_key))
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return False
    return True


def store_reply(dedupe_key: str, reply: str, *, session: Session) -> None:
    record = session.get(WechatReceiptRecord, dedupe_key)
    if record is not None:
        record.reply = reply
        session.add(record)


def stored_reply(dedupe_key: str, *, session: Session) -> str | None:
    record = session.get(WechatReceiptRecord, dedupe_key)
    return record.reply if record is not None else None


def purge_receipts(*, older_than: timedelta, session: Session) -> int:
    """Forget receipts past WeChat's retry window (kept longer, for safety)."""
    result = session.exec(
        delete(WechatReceiptRecord).where(
            col(WechatReceiptRecord.received_at) < utc_now() - older_than
        )
    )
    return int(result.rowcount or 0)
