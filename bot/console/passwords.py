"""Staff passwords: argon2id (argon2-cffi's defaults, RFC 9106's second recommendation), never
stored or logged in the clear."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 256


class PasswordRuleError(ValueError):
    """A password that breaks the rules; the message is for the person choosing it."""


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise PasswordRuleError(f"密码至少 {MIN_PASSWORD_CHARS} 个字符")
    if len(password) > MAX_PASSWORD_CHARS:
        raise PasswordRuleError(f"密码最多 {MAX_PASSWORD_CHARS} 个字符")
    if not password.strip():
        raise PasswordRuleError("密码不能全是空格")


class Passwords:
    """Hashing and checking; `hasher` may be cheaper in tests, never weaker in production."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        # Checked against when the account doesn't exist, so its absence takes as long to learn.
        self._decoy = self._hasher.hash("decoy password for unknown accounts")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash or self._decoy, password) and bool(stored_hash)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def rehashed(self, stored_hash: str, password: str) -> str | None:
        """A new hash when the stored one used older parameters (after a successful check)."""
        return self._hasher.hash(password) if self._hasher.check_needs_rehash(stored_hash) else None
