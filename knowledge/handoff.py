"""Is this person describing their own labour dispute? Then a human should take it.

A handoff needs a dispute that happened (wages owed or docked, an injury the employer won't handle,
dismissal, no contract) told in the first person, or a request for a lawyer or help for oneself
about work. A question about rights in general, or a what-if, is answered from the texts instead.
The expressions are reviewed data: `data/handoff.toml`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class HandoffRules:
    first_person: re.Pattern[str]
    hypothetical: re.Pattern[str]
    conditional_after: re.Pattern[str]
    ongoing: re.Pattern[str]
    sentence_end: re.Pattern[str]
    labour_context: re.Pattern[str]
    disputes: tuple[re.Pattern[str], ...]
    asks_for_help: tuple[re.Pattern[str], ...]


def _compile(value: Any, where: str) -> re.Pattern[str]:
    if not isinstance(value, str):
        raise ValueError(f"handoff: '{where}' must be a regular expression")
    try:
        return re.compile(value)
    except re.error as error:
        raise ValueError(f"handoff: bad expression in '{where}': {error}") from error


def parse_handoff_rules(data: Mapping[str, Any]) -> HandoffRules:
    disputes = data.get("disputes", {})
    if not isinstance(disputes, dict):
        raise ValueError("handoff: [disputes] must be a table")
    kinds = {name: values for name, values in disputes.items() if name != "asks_for_help"}
    return HandoffRules(
        first_person=_compile(data.get("first_person"), "first_person"),
        hypothetical=_compile(data.get("hypothetical"), "hypothetical"),
        conditional_after=_compile(data.get("conditional_after", r"(?!x)x"), "conditional_after"),
        ongoing=_compile(data.get("ongoing", r"(?!x)x"), "ongoing"),
        sentence_end=_compile(data.get("sentence_end"), "sentence_end"),
        labour_context=_compile(data.get("labour_context"), "labour_context"),
        disputes=tuple(_compile(value, name) for name, values in kinds.items() for value in values),
        asks_for_help=tuple(
            _compile(value, "asks_for_help") for value in disputes.get("asks_for_help", [])
        ),
    )


def load_handoff_rules(path: Path) -> HandoffRules:
    return parse_handoff_rules(tomllib.loads(path.read_text(encoding="utf-8")))


def _is_hypothetical_before(rules: HandoffRules, text: str, position: int) -> bool:
    ends = rules.sentence_end.finditer(text, 0, position)
    sentence_start = max((m.end() for m in ends), default=0)
    return bool(rules.hypothetical.search(text, sentence_start, position))


def is_handoff(text: str, rules: HandoffRules) -> bool:
    """`text` is normalised and sound-corrected (simplified, lower case).

    Own means told in the first person, or told as something that happened (了 in the event),
    and only about work: a labour context must be named.
    """
    if not rules.labour_context.search(text):
        return False
    is_first_person = bool(rules.first_person.search(text))
    # A dispute may be told as an event; a request for help is one's own only in the first
    # person ("申请了法律援助，多久有答复" asks how the procedure goes on).
    told_as = [(pattern, True) for pattern in rules.disputes]
    told_as += [(pattern, False) for pattern in rules.asks_for_help]
    for pattern, may_be_an_event in told_as:
        for match in pattern.finditer(text):
            told = text[max(0, match.start() - 2) : match.end() + 2]
            happened = may_be_an_event and (
                "了" in text[match.start() : match.end() + 2] or bool(rules.ongoing.search(told))
            )
            if (
                (is_first_person or happened)
                and not _is_hypothetical_before(rules, text, match.start())
                and not rules.conditional_after.match(text, match.end())
            ):
                return True
    return False
