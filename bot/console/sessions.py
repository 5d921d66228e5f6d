"""Server-side sessions: the cookie carries a random token (HttpOnly, SameSite=Strict, Secure
over HTTPS); the database keeps its hash, the staff member and the session's CSRF token, so
every process sees the same sessions and 退出所有设备 ends them all at once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from bot.console.roles import Role
from bot.settings import ConsoleSettings
from bot.storage.engine import in_transaction
from bot.storage.models import utc_now
from bot.storage.repositories import staff as staff_rows
from handlers.cases import StaffMember

SESSION_COOKIE = "policybot_console"
COOKIE_PATH = "/console"
ACTOR_PREFIX = "console:"
# Writing last_seen_at on every request would make every page view a write.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class Staff:
    """The signed-in staff member behind a request."""

    account_id: int
    name: str
    role: Role
    csrf_token: str
    session_token: str

    @property
    def actor_id(self) -> str:
        return f"{ACTOR_PREFIX}{self.account_id}"

    @property
    def member(self) -> StaffMember:
        """As the case desk knows staff (the Telegram card's staff are `telegram:<id>`)."""
        return StaffMember(self.actor_id, self.name)


def is_secure_request(request: Request, policy: str) -> bool:
    if policy == "always":
        return True
    if policy == "never":
        return False
    return request.url.scheme == "https"


class SessionBook:
    def __init__(self, engine: Engine, settings: ConsoleSettings) -> None:
        self._engine = engine
        self._settings = settings
        self._idle = timedelta(minutes=settings.idle_timeout_minutes)
        self._lifetime = timedelta(hours=settings.session_hours)

    @property
    def idle(self) -> timedelta:
        return self._idle

    async def open(self, account_id: int) -> tuple[str, str]:
        """A new session's cookie token and CSRF token."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)

        await in_transaction(
            self._engine, lambda s: staff_rows.start_session(account_id, token, csrf, session=s)
        )
        return token, csrf

    async def staff_for(self, request: Request) -> Staff | None:
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            return None

        def work(session: Session) -> Staff | None:
            found = staff_rows.find_session(
                token, idle=self._idle, lifetime=self._lifetime, session=session
            )
            if found is None:
                return None
            record, account = found
            if utc_now() - record.last_seen_at >= TOUCH_EVERY:
                staff_rows.touch_session(record, session=session)
            assert account.id is not None
            return Staff(account.id, account.name, Role(account.role), record.csrf_token, token)

        return await in_transaction(self._engine, work)

    async def close(self, staff: Staff) -> None:
        await in_transaction(
            self._engine, lambda s: staff_rows.end_session(staff.session_token, session=s)
        )

    async def close_all(self, staff: Staff) -> int:
        return await in_transaction(
            self._engine, lambda s: staff_rows.end_sessions(staff.account_id, session=s)
        )

    def set_cookie(self, response: Response, request: Request, token: str) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            token,
            path=COOKIE_PATH,
            httponly=True,
            samesite="strict",
            secure=is_secure_request(request, self._settings.secure_cookie),
        )

    def clear_cookie(self, response: Response, request: Request) -> None:
        response.delete_cookie(
            SESSION_COOKIE,
            path=COOKIE_PATH,
            httponly=True,
            samesite="strict",
            secure=is_secure_request(request, self._settings.secure_cookie),
        )

    def purge(self, session: Session) -> int:
        """Housekeeping: sessions idle past the timeout."""
        return staff_rows.purge_sessions(older_than=self._idle, session=session)
