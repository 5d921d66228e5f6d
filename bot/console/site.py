"""The console's assembly: every feature's routes behind the guard, the login pages, the static
files, and the upkeep the housekeeping round runs. The server mounts it beside the channels."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from bot.channels.base import ChannelParts
from bot.console.context import Console, ConsoleDeps
from bot.console.guard import ConsoleRoute, Guard
from bot.console.pages import Pages
from bot.console.passwords import Passwords
from bot.console.routes.audit import AuditRoutes
from bot.console.routes.cases import CaseRoutes
from bot.console.routes.exports import ExportRoutes
from bot.console.routes.figures import FigureRoutes
from bot.console.routes.hit_test import HitTestRoutes
from bot.console.routes.jobs import JobRoutes
from bot.console.routes.login import LoginRoutes
from bot.console.routes.review import ReviewRoutes
from bot.console.sessions import SessionBook
from bot.events import log_event
from bot.storage.engine import run_transaction
from bot.storage.repositories import staff as staff_rows

NAME = "console"
# Failed sign-ins are kept a day past the longest window they can count in.
FAILED_LOGIN_KEEP = timedelta(days=1)

__all__ = ["ConsoleDeps", "build_console", "console_routes"]


def console_routes(console: Console) -> list[ConsoleRoute]:
    """Every guarded route, each with its roles (the route-by-route tests read this list)."""
    login = LoginRoutes(console)
    return [
        *login.routes(),
        # Before the case page's /console/cases/{number}: feed and export are fixed paths.
        *ExportRoutes(console).routes(),
        *CaseRoutes(console).routes(),
        *ReviewRoutes(console).routes(),
        *HitTestRoutes(console).routes(),
        *FigureRoutes(console).routes(),
        *JobRoutes(console).routes(),
        *AuditRoutes(console).routes(),
    ]


def build_console(deps: ConsoleDeps) -> ChannelParts:
    pages = Pages()
    sessions = SessionBook(deps.engine, deps.settings.console)
    console = Console(deps, pages, sessions, deps.passwords or Passwords())
    guard = Guard(sessions, pages)
    routes: list[BaseRoute] = [
        *LoginRoutes(console).public_routes(),
        *guard.routes(console_routes(console)),
        Mount(
            "/console/static",
            StaticFiles(packages=[("bot.console", "static")]),
            name="console_static",
        ),
    ]

    def upkeep() -> None:
        def purge(session: Session) -> tuple[int, int]:
            return (
                sessions.purge(session),
                staff_rows.purge_failed_logins(older_than=FAILED_LOGIN_KEEP, session=session),
            )

        ended, forgotten = run_transaction(deps.engine, purge)
        log_event("console_upkeep", sessions_ended=ended, failed_logins_forgotten=forgotten)

    return ChannelParts(
        NAME, routes=routes, upkeep=[upkeep], notice="工作台：在浏览器打开 {base}/console"
    )
