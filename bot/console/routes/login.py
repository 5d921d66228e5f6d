"""登录 and 退出: the sign-in form (with its own CSRF token, a double-submit cookie, since there is
no session yet), failed attempts limited per account and per address in the database (shared by
every process), sign-out here and on every device."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from enum import StrEnum

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.console.context import Console
from bot.console.guard import (
    CSRF_FIELD,
    LOGIN_PATH,
    ConsoleRoute,
    StaffRequest,
    is_same_origin,
    read_form,
)
from bot.console.pages import secured
from bot.console.roles import EVERYONE, Role, landing_page
from bot.console.sessions import ACTOR_PREFIX, is_secure_request
from bot.events import log_event
from bot.storage.engine import in_transaction
from bot.storage.models import utc_now
from bot.storage.repositories import audit
from bot.storage.repositories import staff as staff_rows
from bot.storage.repositories.audit import AuditAction

LOGIN_COOKIE = "policybot_console_login"
MAX_NAME_CHARS = 64
MAX_PASSWORD_CHARS = 256
WRONG_PASSWORD = "用户名或密码不对。"
TOO_MANY = "输错次数太多，请 {minutes} 分钟后再试。"
STALE_FORM = "登录页已过期，请重新打开登录页再试。"


class LoginVerdict(StrEnum):
    SIGNED_IN = "signed_in"
    WRONG = "wrong"
    LIMITED = "limited"


def safe_next(target: str | None) -> str | None:
    """Only a console address of this site: never another host (//evil, /\\evil)."""
    if not target or not target.startswith("/console") or target.startswith(LOGIN_PATH):
        return None
    if target.startswith("//") or "\\" in target or "\n" in target or "\r" in target:
        return None
    return target


class LoginRoutes:
    def __init__(self, console: Console) -> None:
        self._console = console
        settings = console.settings.console
        self._window = timedelta(minutes=settings.login_window_minutes)
        self._per_account = settings.login_failures_per_account
        self._per_address = settings.login_failures_per_address

    def _form_page(
        self, request: Request, *, error: str | None = None, status_code: int = 200
    ) -> Response:
        token = secrets.token_urlsafe(32)
        response = self._console.pages.render(
            "login.html",
            None,
            status_code=status_code,
            csrf_token=token,
            next=safe_next(request.query_params.get("next")) or "",
            error=error,
        )
        response.set_cookie(
            LOGIN_COOKIE,
            token,
            path=LOGIN_PATH,
            httponly=True,
            samesite="strict",
            secure=is_secure_request(request, self._console.settings.console.secure_cookie),
        )
        return response

    async def form(self, request: Request) -> Response:
        staff = await self._console.sessions.staff_for(request)
        if staff is not None:
            target = safe_next(request.query_params.get("next")) or landing_page(staff.role)
            return secured(RedirectResponse(target, status_code=303))
        return self._form_page(request)

    def _check(
        self, name: str, password: str, address: str, session: Session
    ) -> tuple[LoginVerdict, int | None, Role | None]:
        since = utc_now() - self._window
        if (
            staff_rows.failed_logins_since(since, account_name=name, session=session)
            >= self._per_account
            or staff_rows.failed_logins_since(since, address=address, session=session)
            >= self._per_address
        ):
            return LoginVerdict.LIMITED, None, None
        account = staff_rows.get_account(name, session=session)
        passwords = self._console.passwords
        usable = account is not None and not account.disabled
        stored = account.password_hash if account is not None and usable else None
        if account is None or not passwords.verify(stored, password) or account.id is None:
            staff_rows.record_failed_login(name, address, session=session)
            return LoginVerdict.WRONG, None, None
        staff_rows.clear_failed_logins(name, session=session)
        staff_rows.record_login(
            account, session=session, rehashed=passwords.rehashed(account.password_hash, password)
        )
        audit.record(
            f"{ACTOR_PREFIX}{account.id}", account.name, AuditAction.LOGIN, session=session
        )
        return LoginVerdict.SIGNED_IN, account.id, Role(account.role)

    async def submit(self, request: Request) -> Response:
        form = await read_form(request)
        cookie = request.cookies.get(LOGIN_COOKIE, "")
        sent = form.get(CSRF_FIELD) if form is not None else None
        if (
            form is None
            or not cookie
            or not isinstance(sent, str)
            or not hmac.compare_digest(sent, cookie)
            or not is_same_origin(request)
        ):
            return self._form_page(request, error=STALE_FORM, status_code=403)
        name = str(form.get("username", "")).strip()[:MAX_NAME_CHARS]
        password = str(form.get("password", ""))[:MAX_PASSWORD_CHARS]
        address = request.client.host if request.client else "unknown"
        verdict, account_id, role = await in_transaction(
            self._console.engine, lambda s: self._check(name, password, address, s)
        )
        log_event("console_login", verdict=verdict.value)
        if verdict == LoginVerdict.LIMITED:
            minutes = int(self._window.total_seconds() // 60)
            return self._form_page(request, error=TOO_MANY.format(minutes=minutes), status_code=429)
        if verdict == LoginVerdict.WRONG or account_id is None or role is None:
            return self._form_page(request, error=WRONG_PASSWORD, status_code=401)
        token, _csrf = await self._console.sessions.open(account_id)
        target = safe_next(str(form.get("next", ""))) or landing_page(role)
        response = secured(RedirectResponse(target, status_code=303))
        self._console.sessions.set_cookie(response, request, token)
        response.delete_cookie(LOGIN_COOKIE, path=LOGIN_PATH)
        return response

    async def home(self, visit: StaffRequest) -> Response:
        return RedirectResponse(landing_page(visit.staff.role), status_code=303)

    async def logout(self, visit: StaffRequest) -> Response:
        await self._console.sessions.close(visit.staff)
        response = RedirectResponse(LOGIN_PATH, status_code=303)
        self._console.sessions.clear_cookie(response, visit.request)
        return response

    async def logout_everywhere(self, visit: StaffRequest) -> Response:
        staff = visit.staff

        def work(session: Session) -> int:
            audit.record(staff.actor_id, staff.name, AuditAction.LOGOUT_EVERYWHERE, session=session)
            return staff_rows.end_sessions(staff.account_id, session=session)

        ended = await in_transaction(self._console.engine, work)
        log_event("console_logout_everywhere", sessions=ended)
        response = RedirectResponse(LOGIN_PATH, status_code=303)
        self._console.sessions.clear_cookie(response, visit.request)
        return response

    def public_routes(self) -> list[Route]:
        return [
            Route(LOGIN_PATH, self.form, methods=["GET"]),
            Route(LOGIN_PATH, self.submit, methods=["POST"]),
        ]

    def routes(self) -> list[ConsoleRoute]:
        return [
            ConsoleRoute("/console", self.home, EVERYONE),
            ConsoleRoute("/console/logout", self.logout, EVERYONE, ("POST",)),
            ConsoleRoute(
                "/console/logout-everywhere",
                self.logout_everywhere,
                EVERYONE,
                ("POST",),
            ),
        ]
