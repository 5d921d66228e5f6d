"""Every console route is declared with the roles that may use it, and reached only through the
guard: no session → the login page (pages) or 403 (everything else); the wrong role → 403; a
state-changing request without the session's CSRF token, or from another origin → 403. A route
cannot be added without roles, so none can be left open by mistake."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, urlsplit

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.channels.request_body import read_capped_body
from bot.console.pages import Pages, secured
from bot.console.roles import Role
from bot.console.sessions import SessionBook, Staff

LOGIN_PATH = "/console/login"
SAFE_METHODS = frozenset({"GET", "HEAD"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
MAX_FORM_BYTES = 64 * 1024
MAX_FORM_FIELDS = 500
NOT_SIGNED_IN = "请先登录。"
WRONG_ROLE = "你的账号没有这个页面的权限。"
BAD_TOKEN = "页面已过期或请求来源不对，请返回刷新后再试。"
TOO_LARGE = "提交的内容太长。"


@dataclass(frozen=True, slots=True)
class StaffRequest:
    """A signed-in staff member's request as a console page sees it (the form already read)."""

    request: Request
    staff: Staff
    form: FormData = field(default_factory=FormData)

    def field(self, name: str, default: str = "") -> str:
        value = self.form.get(name, default)
        return value if isinstance(value, str) else default

    def fields(self, name: str) -> list[str]:
        return [value for value in self.form.getlist(name) if isinstance(value, str)]


Handler = Callable[[StaffRequest], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class ConsoleRoute:
    path: str
    handler: Handler
    roles: frozenset[Role]
    methods: tuple[str, ...] = ("GET",)
    # An API answers JSON (403 for anyone not let in); a page redirects an anonymous visitor to
    # the login page (a GET) or shows a 403 page.
    api: bool = False


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return secured(RedirectResponse(f"{LOGIN_PATH}?next={quote(target)}", status_code=303))


def is_same_origin(request: Request) -> bool:
    """A browser names the page a POST came from; another site's page is refused."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        referer = request.headers.get("referer")
        if referer is None:
            return origin is None  # no header at all: not a browser's cross-site form
        origin = referer
    parts = urlsplit(origin)
    return parts.netloc == request.url.netloc and parts.scheme in ("http", "https")


async def read_form(request: Request) -> FormData | None:
    """An urlencoded body (the console's only kind); None when it is too large."""
    body = await read_capped_body(request, MAX_FORM_BYTES)
    if body is None:
        return None
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return FormData()
    pairs: list[tuple[str, str | UploadFile]] = []
    pairs += parse_qsl(
        body.decode("utf-8", errors="replace"),
        keep_blank_values=True,
        max_num_fields=MAX_FORM_FIELDS,
    )
    return FormData(pairs)


def has_csrf_token(request: Request, form: FormData, staff: Staff) -> bool:
    sent = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)
    return isinstance(sent, str) and hmac.compare_digest(sent, staff.csrf_token)


class Guard:
    def __init__(self, sessions: SessionBook, pages: Pages) -> None:
        self._sessions = sessions
        self._pages = pages

    def _refuse(self, route: ConsoleRoute, staff: Staff | None, message: str) -> Response:
        if route.api:
            return secured(JSONResponse({"error": message}, status_code=403))
        return self._pages.refusal(staff, 403, message)

    def endpoint(self, route: ConsoleRoute) -> Callable[[Request], Awaitable[Response]]:
        async def guarded(request: Request) -> Response:
            staff = await self._sessions.staff_for(request)
            if staff is None:
                if not route.api and request.method in SAFE_METHODS:
                    return login_redirect(request)
                return self._refuse(route, None, NOT_SIGNED_IN)
            if staff.role not in route.roles:
                return self._refuse(route, staff, WRONG_ROLE)
            form = FormData()
            if request.method not in SAFE_METHODS:
                read = await read_form(request)
                if read is None:
                    return secured(Response(TOO_LARGE, status_code=413))
                form = read
                if not is_same_origin(request) or not has_csrf_token(request, form, staff):
                    return self._refuse(route, staff, BAD_TOKEN)
            return secured(await route.handler(StaffRequest(request, staff, form)))

        return guarded

    def routes(self, declared: list[ConsoleRoute]) -> list[Route]:
        return [
            Route(route.path, self.endpoint(route), methods=list(route.methods))
            for route in declared
        ]
