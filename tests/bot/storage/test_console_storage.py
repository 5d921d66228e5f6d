"""The console's repositories on SQLite and PostgreSQL: accounts and sessions, failed sign-ins,
the audit log, the inbox's filters, the additions and their revision, the review queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from bot.storage.engine import run_transaction
from bot.storage.models import LegalAidCase, QuestionRow, utc_now
from bot.storage.repositories import audit, case_inbox
from bot.storage.repositories import knowledge_additions as additions
from bot.storage.repositories import staff as staff_rows
from bot.storage.repositories.audit import AuditAction, AuditFilter
from bot.storage.repositories.staff import StaffError

HOUR = timedelta(hours=1)


def test_accounts_sessions_and_logout_everywhere(engine: Engine) -> None:
    account_id = run_transaction(
        engine, lambda s: staff_rows.add_account("wang", "admin", "hash", session=s).id
    )
    assert account_id is not None
    for token in ("one", "two"):
        run_transaction(
            engine, lambda s, t=token: staff_rows.start_session(account_id, t, "csrf", session=s)
        )
    found = run_transaction(
        engine, lambda s: staff_rows.find_session("one", idle=HOUR, lifetime=HOUR, session=s)
    )
    assert found is not None and found[1].name == "wang"
    assert run_transaction(engine, lambda s: staff_rows.end_sessions(account_id, session=s)) == 2
    assert (
        run_transaction(
            engine, lambda s: staff_rows.find_session("two", idle=HOUR, lifetime=HOUR, session=s)
        )
        is None
    )
    with pytest.raises(StaffError):
        run_transaction(engine, lambda s: staff_rows.add_account("wang", "admin", "h", session=s))


def test_a_new_password_ends_the_sessions(engine: Engine) -> None:
    account_id = run_transaction(
        engine, lambda s: staff_rows.add_account("wang", "admin", "hash", session=s).id
    )
    assert account_id is not None
    run_transaction(engine, lambda s: staff_rows.start_session(account_id, "t", "c", session=s))
    run_transaction(engine, lambda s: staff_rows.set_password("wang", "new", session=s))
    assert (
        run_transaction(
            engine, lambda s: staff_rows.find_session("t", idle=HOUR, lifetime=HOUR, session=s)
        )
        is None
    )


def test_failed_sign_ins_are_counted_per_account_and_address(engine: Engine) -> None:
    def fail(session: Session) -> None:
        staff_rows.record_failed_login("wang", "10.0.0.1", session=session)
        staff_rows.record_failed_login("li", "10.0.0.1", session=session)
        staff_rows.record_failed_login("wang", "10.0.0.2", session=session)

    run_transaction(engine, fail)
    since = utc_now() - HOUR
    with Session(engine) as session:
        assert staff_rows.failed_logins_since(since, account_name="wang", session=session) == 2
        assert staff_rows.failed_logins_since(since, address="10.0.0.1", session=session) == 2
        later = utc_now() + HOUR
        assert staff_rows.failed_logins_since(later, account_name="wang", session=session) == 0


def test_the_audit_log_filters(engine: Engine) -> None:
    def write(session: Session) -> None:
        audit.record("console:1", "li", AuditAction.VIEW_CASE, case_number="LA-1", session=session)
        audit.record("console:1", "li", AuditAction.EXPORT, detail="{}", session=session)
        audit.record("telegram:9", "张", AuditAction.CLAIM, case_number="LA-1", session=session)

    run_transaction(engine, write)
    with Session(engine) as session:
        assert [e.action for e in audit.entries(AuditFilter(actor="li"), session=session)] == [
            "export",
            "view_case",
        ]
        assert len(audit.entries(AuditFilter(case_number="LA-1"), session=session)) == 2
        assert audit.entries(AuditFilter(until=utc_now() - HOUR), session=session) == []
        assert [e.action for e in audit.case_history("LA-1", session=session)] == [
            "view_case",
            "claim",
        ]


def case_row(
    number: str, status: str, *, category: str = "wages", hours_ago: int = 0
) -> LegalAidCase:
    now = datetime.now(UTC)
    return LegalAidCase(
        number=number, channel="web", category=category, district="西青区", consent_at=now,
        consent_version="v", status=status, created_at=now - timedelta(hours=hours_ago),
    )  # fmt: skip


def test_the_inbox_lists_pending_first_and_counts(engine: Engine) -> None:
    def add(session: Session) -> None:
        for row in (
            case_row("LA-1", "pending", hours_ago=3),
            case_row("LA-2", "closed", hours_ago=2),
            case_row("LA-3", "pending", category="injury", hours_ago=1),
            case_row("LA-4", "claimed"),
        ):
            session.add(row)

    run_transaction(engine, add)
    with Session(engine) as session:
        everything = case_inbox.CaseFilter()
        listed = case_inbox.filtered_cases(everything, session=session)
        assert [c.number for c in listed] == ["LA-3", "LA-1", "LA-4", "LA-2"]
        assert case_inbox.status_counts(
            case_inbox.CaseFilter(status="pending"), session=session
        ) == {"pending": 2, "closed": 1, "claimed": 1}
        wages = case_inbox.CaseFilter(category="wages", since=utc_now() - 2.5 * HOUR)
        assert [c.number for c in case_inbox.filtered_cases(wages, session=session)] == [
            "LA-4",
            "LA-2",
        ]
        first_id = listed[1].id
        assert first_id is not None
        newer = case_inbox.filtered_cases(everything, session=session, after_id=first_id)
        assert {c.number for c in newer} == {"LA-2", "LA-3", "LA-4"}
        assert case_inbox.latest_case_id(session=session) == max(c.id or 0 for c in listed)


def test_additions_bump_the_revision_and_load_for_the_matcher(engine: Engine) -> None:
    assert run_transaction(engine, lambda s: additions.current_revision(session=s)) == 0

    def add(session: Session) -> None:
        additions.add_phrase("doc", "2.2.2", "学开挖掘机", added_by="zhao", session=session)
        additions.add_phrase("doc", "2.2.2", "学挖机", added_by="zhao", session=session)
        additions.add_synonym("挖机", "挖掘机", added_by="zhao", session=session)

    run_transaction(engine, add)
    with Session(engine) as session:
        assert additions.current_revision(session=session) == 3
        loaded = additions.load_additions(session=session)
    assert dict(loaded.phrases) == {("doc", "2.2.2"): ("学开挖掘机", "学挖机")}
    assert dict(loaded.synonyms) == {"挖机": "挖掘机"}


def test_the_review_queue_holds_undecided_unanswered_or_disliked_texts(engine: Engine) -> None:
    def add(session: Session) -> list[int]:
        rows = [
            QuestionRow(user_key="a", channel="web", fallback=True, text="学开挖掘机"),
            QuestionRow(user_key="a", channel="web", useful=False, text="没用的回答"),
            QuestionRow(user_key="a", channel="web", useful=True),  # answered, liked: no text
            QuestionRow(user_key="a", channel="web", fallback=True, text=None),  # purged
        ]
        for row in rows:
            session.add(row)
        session.flush()
        return [row.id for row in rows if row.id is not None]

    ids = run_transaction(engine, add)
    since = utc_now() - HOUR
    with Session(engine) as session:
        waiting = additions.questions_to_review(since=since, session=session)
    assert sorted(row.id for row in waiting if row.id) == ids[:2]
    taken = run_transaction(
        engine, lambda s: additions.decide(ids[:1], "dismissed", reviewer="zhao", session=s)
    )
    again = run_transaction(
        engine, lambda s: additions.decide(ids[:1], "dismissed", reviewer="zhao", session=s)
    )
    assert (taken, again) == (1, 0)
    with Session(engine) as session:
        assert [r.id for r in additions.questions_to_review(since=since, session=session)] == [
            ids[1]
        ]
