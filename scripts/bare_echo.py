"""The framework's own speed: a bare Starlette endpoint that parses a JSON body and echoes it,
served by uvicorn as `policybot serve` is (the same HTTP protocol, the same workers) (scripts/bench_framework.py runs it).

Usage: .venv/bin/python scripts/bare_echo.py --port 8099 [--workers 1]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.cli.http_protocol import NoDelayH11Protocol


async def echo(request: Request) -> Response:
    return JSONResponse(await request.json())


async def alive(_request: Request) -> Response:
    return JSONResponse({"ok": True})


def echo_app() -> Starlette:
    # Any path: the load generator posts the chat's own requests (/api/chat) to it.
    return Starlette(
        routes=[Route("/{path:path}", echo, methods=["POST"]), Route("/{path:path}", alive)]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1, help="as policybot serve --workers")
    args = parser.parse_args()
    # Several workers as `policybot serve --workers N` runs them: uvicorn's supervisor, one socket.
    sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]
    uvicorn.run(
        "bare_echo:echo_app",
        factory=True,
        workers=args.workers,
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        http=NoDelayH11Protocol,
    )


if __name__ == "__main__":
    main()
