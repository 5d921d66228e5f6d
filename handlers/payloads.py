"""Button payloads, read by one strict parser: a lower-case kind and ASCII fields, colon-separated.

The dialogue writes every payload it shows (`fb:12:1`, `la:district:3`, `ans:<doc>:2.3.3`), but
what comes back is outside input: a web-chat choice, Telegram callback data anyone can forge, a
WeChat menu key. Anything not of the shape the dialogue writes is refused here, once, so no flow
meets `²` (a digit to `str.isdigit`, not to `int`) or an id no database column can hold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Telegram's limit for callback data, and so for every payload the dialogue writes.
MAX_PAYLOAD_BYTES = 64
# Ids are 64-bit integer columns on SQLite and PostgreSQL.
MAX_ID = 2**63 - 1
_PAYLOAD = re.compile(r"[a-z]{1,16}(?::[A-Za-z0-9_.-]{1,64})*")
_ID = re.compile(r"0|[1-9][0-9]{0,18}")


@dataclass(frozen=True, slots=True)
class Payload:
    """`fb:12:1` → kind `fb`, fields ("12", "1")."""

    kind: str
    fields: tuple[str, ...] = ()

    def field(self, index: int) -> str | None:
        return self.fields[index] if index < len(self.fields) else None

    def id_at(self, index: int) -> int | None:
        """The field as a database id, or None when it is not one."""
        return parse_id(self.field(index) or "")

    @property
    def text(self) -> str:
        return ":".join((self.kind, *self.fields))


def parse_id(text: str) -> int | None:
    """ASCII digits without a leading zero, within a 64-bit integer column; else None."""
    if not _ID.fullmatch(text):
        return None
    value = int(text)
    return value if value <= MAX_ID else None


def parse_payload(text: str) -> Payload | None:
    """The payload a button carried, or None for anything the dialogue would never write."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_PAYLOAD_BYTES:
        return None
    if not text.isascii() or not _PAYLOAD.fullmatch(text):
        return None
    kind, *fields = text.split(":")
    return Payload(kind, tuple(fields))
