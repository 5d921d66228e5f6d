"""Mainland mobile numbers: read what people type (spaces, dashes, +86, full-width digits)."""

from __future__ import annotations

import re
import unicodedata

from handlers import texts

_SEPARATORS = re.compile(r"[\s\-–—()（）.]")
_COUNTRY_PREFIX = re.compile(r"^(?:\+|00)?86")
# Mainland mobile numbers: 11 digits starting 13–19.
_MAINLAND_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def mainland_mobile(text: str) -> str | None:
    """The 11-digit number, or None when `text` is not a mainland mobile number."""
    digits = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    if len(digits) > 11:
        digits = _COUNTRY_PREFIX.sub("", digits)
    return digits if _MAINLAND_MOBILE.match(digits) else None


def masked(phone: str | None) -> str:
    """138****5678, for lists and logs-free displays; an empty mark when deleted."""
    if not phone:
        return texts.PHONE_DELETED
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"
