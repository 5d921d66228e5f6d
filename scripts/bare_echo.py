"""The framework's own speed: a bare Starlette endpoint that parses a JSON body and echoes it,
served by uvicorn as `policybot serve` is (scripts/bench_framework.py runs it).

Usage: .venv/bin/python scripts/bare_echo.py --port 8099
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


async def echo(request: Request) -> Response:
    return JSONResponse(await request.json())


async def alive(_request: Request) -> Response:
    return JSONResponse({"ok": True})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # Any path: the load generator posts the chat's own requests (/api/chat) to it.
    app = Starlette(
        routes=[Route("/{path:path}", echo, methods=["POST"]), Route("/{path:path}", alive)]
    )
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
