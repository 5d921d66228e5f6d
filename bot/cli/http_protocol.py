"""The HTTP protocol `policybot serve` gives uvicorn: its h11 protocol with Nagle's algorithm off
on every connection, in one process or several."""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol


class NoDelayH11Protocol(H11Protocol):
    """asyncio turns Nagle off only on sockets made with proto IPPROTO_TCP; the listening socket
    uvicorn binds for `--workers` is made with proto 0, so its connections kept Nagle on and a
    response's body (a second write after its headers) waited for the client's delayed ACK:
    about 40 ms per request (scripts/bench_framework.py --workers 2)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        connection = transport.get_extra_info("socket")
        if connection is not None and connection.family in (socket.AF_INET, socket.AF_INET6):
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
