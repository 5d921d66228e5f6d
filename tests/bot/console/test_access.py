"""Who may open what: every console route, route by route — anonymous → the login page (pages) or
403, the wrong role → 403, the right role → through; and what guards the doors (CSRF, origin,
sessions, cookies, sign-in limits, headers)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select
from starlette.routing import Mount, Route

from bot.console.context import Console, ConsoleDeps
from bot.console.pages import Pages
from bot.console.roles import Role
from bot.console.sessions import SESSION_COOKIE, SessionBook
from bot.console.site import console_routes
from bot.storage.console_models import AuditEntry, LoginAttempt, StaffSession
from bot.storage.engine import run_transaction
from bot.storage.models import utc_now
from bot.storage.repositories import staff as staff_rows
from knowledge.match import Matcher
from tests.bot.console.conftest import (
    CHEAP_PASSWORDS,
    PASSWORD,
    ConsoleServer,
    add_staff,
    csrf_of,
    serving,
    sign_in,
    submit_case,
)
from tests.bot.server_harness import settings_for

C, R, A = Role.CASEWORKER, Role.CURATOR, Role.ADMIN
EVERYONE = {C, R, A}
# The specification, written out by hand: (method, path) → the roles let in.
ACCESS: dict[tuple[str, str], set[Role]] = {
    ("GET", "/console"): EVERYONE,
    ("POST", "/console/logout"): EVERYONE,
    ("POST", "/console/logout-everywhere"): EVERYONE,
    ("GET", "/console/cases"): {C, A},
    ("GET", "/console/cases/feed"): {C, A},
    ("POST", "/console/cases/export"): {C, A},
    ("GET", "/console/cases/{number:str}"): {C, A},
    ("POST", "/console/cases/{number:str}/reveal"): {C, A},
    ("POST", "/console/cases/{number:str}/claim"): {C, A},
    ("POST", "/console/cases/{number:str}/note"): {C, A},
    ("POST", "/console/cases/{number:str}/close"): {C, A},
    ("GET", "/console/review"): {R, A},
    ("POST", "/console/review/attach"): {R, A},
    ("POST", "/console/review/synonym"): {R, A},
    ("POST", "/console/review/out-of-scope"): {R, A},
    ("POST", "/console/review/dismiss"): {R, A},
    ("GET", "/console/hit-test"): {R, A},
    ("POST", "/console/hit-test"): {R, A},
    ("GET", "/console/figures"): {R, A},
    ("GET", "/console/figures/{name:str}.csv"): {R, A},
    ("GET", "/console/audit"): {A},
    ("GET", "/console/audit.csv"): {A},
    ("GET", "/console/jobs"): {C, A},
    ("POST", "/console/jobs/{posting_id:int}/hide"): {C, A},
    ("POST", "/console/jobs/{posting_id:int}/show"): {C, A},
}
PUBLIC = {("GET", "/console/login"), ("POST", "/console/login")}
# GET routes that answer JSON: anonymous gets 403 there, not a redirect.
APIS = {("GET", "/console/cases/feed")}


def concrete(path: str, number: str) -> str:
    return (
        path.replace("{number:str}", number)
        .replace("{name:str}", "questions-daily")
        .replace("{posting_id:int}", "1")
    )


@pytest.fixture
async def staffed(console: ConsoleServer) -> tuple[ConsoleServer, str]:
    for role in Role:
        add_staff(console.engine, role.value, role)
    case = await submit_case(console.app)
    return console, case.number


def test_every_console_route_is_in_the_table(console: ConsoleServer) -> None:
    """A new route needs its line in ACCESS (and so its roles written down) to pass."""
    deps = ConsoleDeps(
        settings=console.app.settings,
        engine=console.engine,
        knowledge=console.app.knowledge,
        desk=console.app.desk,
    )
    sessions = SessionBook(console.engine, console.app.settings.console)
    declared = console_routes(Console(deps, Pages(), sessions, CHEAP_PASSWORDS))
    assert {(m, r.path) for r in declared for m in r.methods} == set(ACCESS)
    assert all(set(r.roles) == ACCESS[(m, r.path)] for r in declared for m in r.methods)
    # And nothing under /console reaches the app except through that list, the login and static.
    served = {
        (method, route.path)
        for route in console.server.routes
        if isinstance(route, Route) and route.path.startswith("/console")
        for method in (route.methods or ()) - {"HEAD"}
    }
    assert served == set(ACCESS) | PUBLIC
    mounts = [r.path for r in console.server.routes if isinstance(r, Mount)]
    assert "/console/static" in mounts


@pytest.mark.parametrize(("method", "path"), sorted(ACCESS))
async def test_anonymous_is_sent_to_login_or_refused(
    staffed: tuple[ConsoleServer, str], method: str, path: str
) -> None:
    console, number = staffed
    async with console.client() as anonymous:
        response = await anonymous.request(method, concrete(path, number), data={})
    if method == "GET" and (method, path) not in APIS:
        assert response.status_code == 303
        assert response.headers["location"].startswith("/console/login?next=")
    else:
        assert response.status_code == 403
    assert "13812345678" not in response.text and "138****5678" not in response.text


@pytest.mark.parametrize(("method", "path"), sorted(ACCESS))
async def test_each_role_is_let_in_or_refused(
    staffed: tuple[ConsoleServer, str], method: str, path: str
) -> None:
    console, number = staffed
    for role in Role:
        async with console.client() as browser:
            csrf = await sign_in(browser, role.value)
            response = await browser.request(
                method, concrete(path, number), data={"csrf_token": csrf}
            )
        if role in ACCESS[(method, path)]:
            assert response.status_code != 403, (role, response.text[:300])
            assert not response.headers.get("location", "").startswith("/console/login?")
        else:
            assert response.status_code == 403, role
            assert "138****5678" not in response.text


async def test_a_post_without_the_csrf_token_is_refused(staffed: tuple[ConsoleServer, str]) -> None:
    console, number = staffed
    await sign_in(console.http, "caseworker")
    refused = await console.http.post(f"/console/cases/{number}/claim", data={})
    wrong = await console.http.post(f"/console/cases/{number}/claim", data={"csrf_token": "x"})
    assert refused.status_code == wrong.status_code == 403
    page = await console.http.get(f"/console/cases/{number}")
    assert "待接单" in page.text  # nothing changed


async def test_a_post_from_another_site_is_refused(staffed: tuple[ConsoleServer, str]) -> None:
    console, number = staffed
    csrf = await sign_in(console.http, "caseworker")
    response = await console.http.post(
        f"/console/cases/{number}/claim",
        data={"csrf_token": csrf},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403


async def test_login_form_needs_its_own_token(console: ConsoleServer) -> None:
    add_staff(console.engine, "wang", Role.ADMIN)
    response = await console.http.post(
        "/console/login", data={"username": "wang", "password": PASSWORD}
    )
    assert response.status_code == 403
    assert SESSION_COOKIE not in response.cookies


async def test_the_session_cookie_is_httponly_strict_and_scoped(console: ConsoleServer) -> None:
    add_staff(console.engine, "wang", Role.ADMIN)
    page = await console.http.get("/console/login")
    response = await console.http.post(
        "/console/login",
        data={"csrf_token": csrf_of(page.text), "username": "wang", "password": PASSWORD},
    )
    cookie = next(
        v for k, v in response.headers.multi_items() if k == "set-cookie" and SESSION_COOKIE in v
    ).lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/console" in cookie
    assert "secure" not in cookie  # plain http here; behind HTTPS see the next test


async def test_the_cookie_is_secure_over_https(console: ConsoleServer) -> None:
    add_staff(console.engine, "wang", Role.ADMIN)
    async with console.client("https://testserver") as browser:
        page = await browser.get("/console/login")
        response = await browser.post(
            "/console/login",
            data={"csrf_token": csrf_of(page.text), "username": "wang", "password": PASSWORD},
        )
    cookies = [v.lower() for k, v in response.headers.multi_items() if k == "set-cookie"]
    assert any(SESSION_COOKIE in c and "; secure" in c for c in cookies)


async def test_only_a_hash_of_the_session_token_is_stored(console: ConsoleServer) -> None:
    add_staff(console.engine, "wang", Role.ADMIN)
    await sign_in(console.http, "wang")
    token = console.http.cookies[SESSION_COOKIE]
    with Session(console.engine) as session:
        (stored,) = session.exec(select(StaffSession)).all()
    assert stored.token_hash == staff_rows.token_hash(token) != token


async def test_an_idle_session_signs_out(console: ConsoleServer) -> None:
    add_staff(console.engine, "wang", Role.ADMIN)
    await sign_in(console.http, "wang")
    idle = timedelta(minutes=console.app.settings.console.idle_timeout_minutes + 1)

    def age(session: Session) -> None:
        stored = session.exec(select(StaffSession)).one()
        session.exec(update(StaffSession).values(last_seen_at=stored.last_seen_at - idle))

    run_transaction(console.engine, age)
    response = await console.http.get("/console/cases")
    assert response.status_code == 303 and "/console/login" in response.headers["location"]


async def test_logout_everywhere_ends_every_session(console: ConsoleServer) -> None:
    add_staff(console.engine, "wang", Role.ADMIN)
    async with console.client() as phone, console.client() as desktop:
        await sign_in(phone, "wang")
        csrf = await sign_in(desktop, "wang")
        response = await desktop.post("/console/logout-everywhere", data={"csrf_token": csrf})
        assert response.status_code == 303
        assert (await phone.get("/console/cases")).status_code == 303
        assert (await desktop.get("/console/cases")).status_code == 303
    with Session(console.engine) as session:
        assert session.exec(select(StaffSession)).all() == []
        assert session.exec(
            select(AuditEntry).where(col(AuditEntry.action) == "logout_everywhere")
        ).all()


async def test_logout_ends_this_session_only(console: ConsoleServer) -> None:
    add_staff(console.engine, "wang", Role.ADMIN)
    async with console.client() as phone, console.client() as desktop:
        await sign_in(phone, "wang")
        csrf = await sign_in(desktop, "wang")
        await desktop.post("/console/logout", data={"csrf_token": csrf})
        assert (await desktop.get("/console/cases")).status_code == 303
        assert (await phone.get("/console/cases")).status_code == 200


async def test_a_disabled_account_is_signed_out_and_cannot_sign_in(console: ConsoleServer) -> None:
    add_staff(console.engine, "wang", Role.ADMIN)
    await sign_in(console.http, "wang")
    run_transaction(console.engine, lambda s: staff_rows.set_disabled("wang", True, session=s))
    assert (await console.http.get("/console/cases")).status_code == 303
    page = await console.http.get("/console/login")
    response = await console.http.post(
        "/console/login",
        data={"csrf_token": csrf_of(page.text), "username": "wang", "password": PASSWORD},
    )
    assert response.status_code == 401 and "用户名或密码不对" in response.text


async def failed_login(http: httpx.AsyncClient, name: str, password: str = "wrong!") -> int:
    page = await http.get("/console/login")
    response = await http.post(
        "/console/login",
        data={"csrf_token": csrf_of(page.text), "username": name, "password": password},
    )
    return response.status_code


async def test_failed_sign_ins_are_limited_per_account(console: ConsoleServer) -> None:
    add_staff(console.engine, "wang", Role.ADMIN)
    limit = console.app.settings.console.login_failures_per_account
    statuses = [await failed_login(console.http, "wang") for _ in range(limit)]
    assert statuses == [401] * limit
    # Now even the right password waits out the window, from any browser.
    async with console.client() as other:
        assert await failed_login(other, "wang", PASSWORD) == 429


async def test_an_address_trying_many_accounts_is_limited(
    tmp_path: Path, engine: Engine, plan_matcher: Matcher
) -> None:
    settings = settings_for(tmp_path, console={"login_failures_per_address": 3})
    async with serving(settings, engine, plan_matcher) as console:
        add_staff(console.engine, "wang", Role.ADMIN)
        statuses = [await failed_login(console.http, f"guess{i}") for i in range(3)]
        assert statuses == [401, 401, 401]
        assert await failed_login(console.http, "wang", PASSWORD) == 429


async def test_a_successful_sign_in_is_audited_and_clears_failures(console: ConsoleServer) -> None:
    add_staff(console.engine, "wang", Role.ADMIN)
    assert await failed_login(console.http, "wang") == 401
    await sign_in(console.http, "wang")
    since = utc_now() - timedelta(hours=1)
    with Session(console.engine) as session:
        assert staff_rows.failed_logins_since(since, account_name="wang", session=session) == 0
        assert session.exec(select(AuditEntry).where(col(AuditEntry.action) == "login")).one()


async def test_login_redirects_only_within_the_console(console: ConsoleServer) -> None:
    add_staff(console.engine, "wang", Role.CURATOR)
    for target, expected in (
        ("/console/figures", "/console/figures"),
        ("https://evil.example/", "/console/review"),
        ("//evil.example/console", "/console/review"),
    ):
        async with console.client() as browser:
            page = await browser.get("/console/login")
            response = await browser.post(
                "/console/login",
                data={
                    "csrf_token": csrf_of(page.text),
                    "username": "wang",
                    "password": PASSWORD,
                    "next": target,
                },
            )
        assert response.headers["location"] == expected


async def test_pages_carry_a_strict_content_security_policy(console: ConsoleServer) -> None:
    add_staff(console.engine, "wang", Role.ADMIN)
    await sign_in(console.http, "wang")
    for path in ("/console/login", "/console/cases", "/console/figures", "/console/audit"):
        response = await console.http.get(path)
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy
        assert response.headers["cache-control"] == "no-store"
        assert "<script>" not in response.text and " style=" not in response.text
        assert "http://" not in response.text.replace("http://www.w3.org/2000/svg", "")


async def test_housekeeping_forgets_idle_sessions_and_old_failures(console: ConsoleServer) -> None:
    add_staff(console.engine, "wang", Role.ADMIN)
    await sign_in(console.http, "wang")
    async with console.client() as other:
        await failed_login(other, "wang")
    long_ago = utc_now() - timedelta(days=2)

    def age(session: Session) -> None:
        session.exec(update(StaffSession).values(last_seen_at=long_ago))
        session.exec(update(LoginAttempt).values(attempted_at=long_ago))

    run_transaction(console.engine, age)
    console.app.upkeep([console.app.console(CHEAP_PASSWORDS)])
    with Session(console.engine) as session:
        assert session.exec(select(StaffSession)).all() == []
        assert session.exec(select(LoginAttempt)).all() == []
