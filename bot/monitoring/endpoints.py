"""The /healthz and /metrics routes, and the middleware that counts every request by route."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.monitoring.metrics import CONTENT_TYPE, Metrics
from bot.monitoring.readiness import Readiness

# Paths no route matched are counted together: a scanner must not create a label per path.
UNMATCHED = "unmatched"


def monitoring_routes(readiness: Readiness, metrics: Metrics) -> list[BaseRoute]:
    async def healthz(_request: Request) -> Response:
        report = await readiness.report()
        return JSONResponse(report, status_code=200 if report["ready"] else 503)

    async def scrape(_request: Request) -> Response:
        # The database figures are read while exposing: in a thread, like every storage call.
        body = await asyncio.to_thread(metrics.exposition)
        return Response(body, media_type=CONTENT_TYPE)

    return [Route("/healthz", healthz), Route("/metrics", scrape)]


class RequestCounter:
    """Pure ASGI middleware: each HTTP response counted by its route's path and its status."""

    def __init__(self, app: ASGIApp, *, routes: list[BaseRoute], metrics: Metrics) -> None:
        self._app = app
        self._routes = routes
        self._metrics = metrics

    def _route_of(self, scope: Scope) -> str:
        for route in self._routes:
            match, _ = route.matches(scope)
            if match != Match.NONE:
                return str(getattr(route, "path", UNMATCHED))
        return UNMATCHED

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        route = self._route_of(scope)
        status = 500  # what the client sees if the app fails before answering

        async def counting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self._app(scope, receive, counting_send)
        finally:
            self._metrics.observe_request(route, status)
