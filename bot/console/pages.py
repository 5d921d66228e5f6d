"""The console's pages: Jinja2 templates (autoescaped) shipped with the app, and the headers every
console response carries — a strict Content-Security-Policy (everything from the app itself, no
inline script or style), no caching of personal data, no framing."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.responses import HTMLResponse, Response

from bot.console.roles import ROLE_LABELS, Role
from bot.console.sessions import Staff
from handlers.cases import BEIJING, CATEGORIES, DISTRICTS
from handlers.phone import masked

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
STATUS_LABELS: Mapping[str, str] = {"pending": "待接单", "claimed": "已接单", "closed": "已结案"}


def beijing(moment: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    return moment.astimezone(BEIJING).strftime(pattern) if moment else ""


def beijing_iso(moment: str) -> str:
    """A note's stored ISO time, read in Tianjin."""
    try:
        return beijing(datetime.fromisoformat(moment))
    except ValueError:
        return ""


def secured(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def download(body: bytes, filename: str, media_type: str) -> Response:
    """A file to save (exports, figures): never cached, never shown inline."""
    response = Response(body, media_type=media_type)
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return secured(response)


class Pages:
    def __init__(self) -> None:
        self._environment = Environment(
            loader=PackageLoader("bot.console", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._environment.globals.update(
            beijing=beijing,
            beijing_iso=beijing_iso,
            masked=masked,
            status_labels=STATUS_LABELS,
            categories=CATEGORIES,
            districts=DISTRICTS,
            role_labels=ROLE_LABELS,
            Role=Role,
        )

    def render(
        self, template: str, staff: Staff | None, *, status_code: int = 200, **context: Any
    ) -> Response:
        html = self._environment.get_template(template).render(staff=staff, **context)
        return secured(HTMLResponse(html, status_code=status_code))

    def refusal(self, staff: Staff | None, status_code: int, message: str) -> Response:
        return self.render("refused.html", staff, status_code=status_code, message=message)
