"""Who leads a plan's item: the departments named in its closing parenthesis."""

from __future__ import annotations

import re
from typing import Final

_CLOSING_PAREN: Final = re.compile(r"[（(](?P<inner>[^（）()]+)[）)]\s*[。.；;]?\s*$")
_DUTY_END: Final = re.compile(r"(?:负责|牵头|落实|配合)$")
_DUTY_TAIL: Final = re.compile(
    r"(?P<who>.+?)(?:等)?(?:部门|单位)?"
    r"(?:按照?职责分工|依职责|按职责|分别|共同|牵头|配合|负责|落实)*"
)
_LIST_SEPARATOR: Final = re.compile(r"[、，,；;]")
_MAX_DEPARTMENT: Final = 20


def lead_departments(paragraph: str) -> tuple[str, ...]:
    """Lead departments from a closing `(人社、农业农村部门按照职责分工负责)`."""
    match = _CLOSING_PAREN.search(paragraph)
    if match is None:
        return ()
    inner = match["inner"].strip()
    who = _DUTY_TAIL.fullmatch(inner)
    if who is None or not _DUTY_END.search(inner):
        return ()
    names: list[str] = []
    for piece in _LIST_SEPARATOR.split(who["who"]):
        name_match = _DUTY_TAIL.fullmatch(piece.strip())
        name = name_match["who"] if name_match else ""
        if name and len(name) <= _MAX_DEPARTMENT and name not in names:
            names.append(name)
    return tuple(names)
