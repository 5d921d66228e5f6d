"""`policybot serve --workers N` listens on a socket uvicorn binds itself, with proto 0: asyncio
then leaves Nagle's algorithm on for every connection, and each response's body waits for the
client's delayed ACK (~40 ms). Served here as uvicorn's workers serve: on such a socket."""

from __future__ import annotations

import asyncio
import socket

import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from uvicorn.protocols.http.h11_impl import H11Protocol

from bot.cli.http_protocol import NoDelayH11Protocol


async def hello(_request: object) -> PlainTextResponse:
    return PlainTextResponse("ok")


def workers_socket() -> socket.socket:
    """A listening socket made as uvicorn's `Config.bind_socket` makes it for `--workers`."""
    listening = socket.socket(family=socket.AF_INET)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind(("127.0.0.1", 0))
    listening.listen()
    return listening


async def nodelay_of_served_connection(protocol: type[asyncio.Protocol]) -> int:
    listening = workers_socket()
    config = uvicorn.Config(
        Starlette(routes=[Route("/", hello)]), http=protocol, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[listening]))
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        port = listening.getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        assert (await reader.readline()).startswith(b"HTTP/1.1 200")
        (connection,) = server.server_state.connections
        transport = connection.transport  # type: ignore[attr-defined]
        nodelay = transport.get_extra_info("socket").getsockopt(
            socket.IPPROTO_TCP, socket.TCP_NODELAY
        )
        writer.close()
        return int(nodelay)
    finally:
        server.should_exit = True
        await serving
        listening.close()


async def test_the_workers_socket_keeps_nagle_on_with_uvicorns_own_protocol() -> None:
    """The fault this protocol exists for (if uvicorn fixes it, this test says so)."""
    assert await nodelay_of_served_connection(H11Protocol) == 0


async def test_our_protocol_turns_nagle_off_on_the_workers_socket() -> None:
    assert await nodelay_of_served_connection(NoDelayH11Protocol) == 1
