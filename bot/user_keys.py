"""User keys: a keyed hash of a platform id, so storage and logs never hold the id itself."""

from __future__ import annotations

import hashlib
import hmac

USER_KEY_HEX_CHARS = 32


class UserKeyHasher:
    """HMAC-SHA256 of `channel:id` under the deployment's secret."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("the user-key secret must not be empty")
        self._secret = secret.encode()

    def key_for(self, channel: str, platform_id: int | str) -> str:
        digest = hmac.new(self._secret, f"{channel}:{platform_id}".encode(), hashlib.sha256)
        return f"{channel[:2]}-{digest.hexdigest()[:USER_KEY_HEX_CHARS]}"
