"""Console accounts, their server-side sessions and failed sign-ins."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, func, select

from bot.storage.console_models import LoginAttempt, StaffAccount, StaffSession
from bot.storage.models import utc_now


class StaffError(ValueError):
    """An account change that cannot be made; the message is for the operator."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------- accounts


def get_account(name: str, *, session: Session) -> StaffAccount | None:
    return session.exec(select(StaffAccount).where(col(StaffAccount.name) == name)).first()


def list_accounts(*, session: Session) -> list[StaffAccount]:
    return list(session.exec(select(StaffAccount).order_by(col(StaffAccount.name))))


def add_account(name: str, role: str, password_hash: str, *, session: Session) -> StaffAccount:
    if get_account(name, session=session) is not None:
        raise StaffError(f"账号 {name} 已经存在")
    account = StaffAccount(name=name, role=role, password_hash=password_hash)
    session.add(account)
    session.flush()
    return account


def _existing(name: str, *, session: Session) -> StaffAccount:
    account = get_account(name, session=session)
    if account is None:
        raise StaffError(f"没有账号 {name}")
    return account


def set_disabled(name: str, disabled: bool, *, session: Session) -> StaffAccount:
    """Disabling also signs the account out of every browser."""
    account = _existing(name, session=session)
    account.disabled = disabled
    session.add(account)
    if disabled and account.id is not None:
        end_sessions(account.id, session=session)
    return account


def set_password(name: str, password_hash: str, *, session: Session) -> StaffAccount:
    """A new password ends every session signed in with the old one."""
    account = _existing(name, session=session)
    account.password_hash = password_hash
    account.password_changed_at = utc_now()
    session.add(account)
    if account.id is not None:
        end_sessions(account.id, session=session)
    return account


def record_login(account: StaffAccount, *, session: Session, rehashed: str | None) -> None:
    account.last_login_at = utc_now()
    if rehashed is not None:  # the hash's parameters were older than the hasher's
        account.password_hash = rehashed
    session.add(account)


# ---------------------------------------------------------------- sessions


def start_session(account_id: int, token: str, csrf_token: str, *, session: Session) -> None:
    session.add(
        StaffSession(token_hash=token_hash(token), account_id=account_id, csrf_token=csrf_token)
    )


def find_session(
    token: str, *, idle: timedelta, lifetime: timedelta, session: Session
) -> tuple[StaffSession, StaffAccount] | None:
    """The live session for a cookie's token and its (enabled) account; a stale one is deleted."""
    found = session.get(StaffSession, token_hash(token))
    if found is None:
        return None
    now = utc_now()
    account = session.get(StaffAccount, found.account_id)
    if (
        account is None
        or account.disabled
        or now - found.last_seen_at > idle
        or now - found.created_at > lifetime
    ):
        session.delete(found)
        return None
    return found, account


def touch_session(record: StaffSession, *, session: Session) -> None:
    record.last_seen_at = utc_now()
    session.add(record)


def end_session(token: str, *, session: Session) -> None:
    session.exec(delete(StaffSession).where(col(StaffSession.token_hash) == token_hash(token)))


def end_sessions(account_id: int, *, session: Session) -> int:
    """Log out everywhere: every session of the account."""
    result = session.exec(delete(StaffSession).where(col(StaffSession.account_id) == account_id))
    return int(result.rowcount or 0)


def purge_sessions(*, older_than: timedelta, session: Session) -> int:
    """Sessions idle past their timeout (housekeeping; a stale one never signs anyone in anyway)."""
    cutoff = utc_now() - older_than
    result = session.exec(delete(StaffSession).where(col(StaffSession.last_seen_at) < cutoff))
    return int(result.rowcount or 0)


# ---------------------------------------------------------------- failed sign-ins


def record_failed_login(account_name: str, address: str, *, session: Session) -> None:
    session.add(LoginAttempt(account_name=account_name, address=address))


def failed_logins_since(
    since: datetime,
    *,
    session: Session,
    account_name: str | None = None,
    address: str | None = None,
) -> int:
    statement = (
        select(func.count())
        .select_from(LoginAttempt)
        .where(col(LoginAttempt.attempted_at) >= since)
    )
    if account_name is not None:
        statement = statement.where(col(LoginAttempt.account_name) == account_name)
    if address is not None:
        statement = statement.where(col(LoginAttempt.address) == address)
    return int(session.exec(statement).one())


def clear_failed_logins(account_name: str, *, session: Session) -> None:
    """A successful sign-in (or a password reset) forgives the account's earlier failures."""
    session.exec(delete(LoginAttempt).where(col(LoginAttempt.account_name) == account_name))


def purge_failed_logins(*, older_than: timedelta, session: Session) -> int:
    cutoff = utc_now() - older_than
    result = session.exec(delete(LoginAttempt).where(col(LoginAttempt.attempted_at) < cutoff))
    return int(result.rowcount or 0)
