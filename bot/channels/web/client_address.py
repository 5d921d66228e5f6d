"""Who sent a web-chat request, for the per-IP limit: the connecting peer — or, only when that
peer is one of the configured proxies, the address the proxies forwarded (`X-Forwarded-For`).

Anyone can send the header; only the hops our own proxies appended are true. So the chain is read
from the right, past the trusted proxies, and the first other address is the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.requests import Request

FORWARDED_FOR = "x-forwarded-for"
UNKNOWN = "unknown"
# A hop that is not an address is kept as the key, shortened (it only counts requests).
MAX_KEY_CHARS = 64

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ClientAddress:
    """The client's address under a list of trusted proxy networks (none: the peer, always)."""

    def __init__(self, trusted_proxies: Sequence[Network]) -> None:
        self._trusted = tuple(trusted_proxies)

    def _is_trusted(self, address: str) -> bool:
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(parsed in network for network in self._trusted)

    def of(self, request: Request) -> str:
        peer = request.client.host if request.client else UNKNOWN
        if not self._trusted or not self._is_trusted(peer):
            return peer
        hops = [
            hop.strip()
            for header in request.headers.getlist(FORWARDED_FOR)
            for hop in header.split(",")
            if hop.strip()
        ]
        for hop in reversed(hops):
            if not self._is_trusted(hop):
                return hop[:MAX_KEY_CHARS]
            peer = hop
        return peer  # every hop is a proxy of ours: the farthest one is as close as we get
