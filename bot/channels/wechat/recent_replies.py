"""The replies this process gave lately, by WeChat message: a retry of one of them is answered
from memory, without a database read (a retry reaching another process finds the stored reply)."""

from __future__ import annotations

from collections import OrderedDict

# WeChat retries a message within 15 s, thrice at most: a few thousand cover any burst.
RECENT_REPLIES = 4096


class RecentReplies:
    """The last few replies by message, least recently given first out."""

    def __init__(self, size: int = RECENT_REPLIES) -> None:
        self._size = size
        self._replies: OrderedDict[str, str] = OrderedDict()

    def get(self, dedupe_key: str) -> str | None:
        return self._replies.get(dedupe_key)

    def put(self, dedupe_key: str, reply: str) -> None:
        self._replies[dedupe_key] = reply
        self._replies.move_to_end(dedupe_key)
        if len(self._replies) > self._size:
            self._replies.popitem(last=False)
