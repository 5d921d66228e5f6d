"""WeChat's callback XML, parsed defensively: no DTD, no entities, a capped size, flat fields.

WeChat's messages are one flat `<xml>` element of text fields (CDATA or plain), so an envelope
with a declaration (`<!DOCTYPE`, `<!ENTITY`) or a processing instruction is refused before parsing:
that closes entity expansion ("billion laughs") and external entities whatever the parser would do
with them. Inside a CDATA section `<!` and `<?` are only text (a worker pasting `<!-- -->`).
"""

from __future__ import annotations

import re
from xml.etree import ElementTree

MAX_BODY_BYTES = 64 * 1024
MAX_FIELDS = 64
_CDATA = re.compile(rb"<!\[CDATA\[.*?\]\]>", re.DOTALL)
# Outside CDATA: no declaration, comment or processing instruction but the `<?xml …?>` line.
_DECLARATION = re.compile(rb"<!")
_PROCESSING_INSTRUCTION = re.compile(rb"<\?(?!xml\s)", re.IGNORECASE)


class UnsafeXmlError(Exception):
    """The body is too large, carries a DTD or entity declaration, or is not WeChat's flat XML."""


def parse_fields(body: bytes) -> dict[str, str]:
    """The `<xml>` element's children as name → text."""
    if len(body) > MAX_BODY_BYTES:
        raise UnsafeXmlError("body too large")
    envelope = _CDATA.sub(b"", body)
    if _DECLARATION.search(envelope) or _PROCESSING_INSTRUCTION.search(envelope):
        raise UnsafeXmlError("declarations are not allowed")
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as error:
        raise UnsafeXmlError(f"not well-formed ({error.code})") from None
    if root.tag != "xml" or len(root) > MAX_FIELDS:
        raise UnsafeXmlError("not a WeChat message")
    return {child.tag: (child.text or "").strip() for child in root}


def build(fields: dict[str, str | int]) -> str:
    """A flat `<xml>` reply; text goes into CDATA (split where it contains the CDATA end marker)."""
    parts = ["<xml>"]
    for name, value in fields.items():
        if isinstance(value, int):
            parts.append(f"<{name}>{value}</{name}>")
        else:
            # "]]>" would end the section early: close it after "]]" and open a new one.
            safe = value.replace("]]>", "]]]]><![CDATA[>")
            parts.append(f"<{name}><![CDATA[{safe}]]></{name}>")
    parts.append("</xml>")
    return "".join(parts)
