"""The dialogue's replies as one WeChat text: choices as numbered lines, at most 2,048 bytes.

WeChat text replies have no buttons, so each choice becomes "回复 1 查看原文" and a bare number
sent back picks it. An answer too long for one message is cut at a line end; the cut-off part is
kept and offered as one more numbered choice (看后面), and the citation is always on the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from handlers.messages import Choice, Reply

MAX_REPLY_BYTES = 2048
MORE_PAYLOAD = "wx:more"
MORE_LABEL = "看后面"
MORE_LABEL_TRADITIONAL = "看後面"
# A choice line's label is shortened past this, so many choices still leave room for the answer.
MAX_LABEL_CHARS = 18
CHOICE_LINE = "回复 {number} {label}"
# Traditional in, Traditional out: the adapter's own words follow the answer's script.
CHOICE_LINE_TRADITIONAL = "回覆 {number} {label}"
# How a citation line starts (knowledge.citation); the kept rest carries its citations this way.
CITATION_PREFIX = ("依据：", "依據：")


@dataclass(frozen=True, slots=True)
class WechatPage:
    text: str
    choices: tuple[Choice, ...]  # in the order they are numbered
    rest: str | None = None  # what 看后面 sends
    traditional: bool = False


def byte_length(text: str) -> int:
    return len(text.encode())


def choice_lines(choices: Sequence[Choice], *, traditional: bool = False) -> str:
    line = CHOICE_LINE_TRADITIONAL if traditional else CHOICE_LINE
    lines = []
    for number, choice in enumerate(choices, 1):
        label = choice.label
        if len(label) > MAX_LABEL_CHARS:
            label = label[: MAX_LABEL_CHARS - 1] + "…"
        lines.append(line.format(number=number, label=label))
    return "\n".join(lines)


def with_choices(body: str, choices: Sequence[Choice], *, traditional: bool = False) -> str:
    return f"{body}\n\n{choice_lines(choices, traditional=traditional)}" if choices else body


def cut_point(text: str, budget_bytes: int) -> int:
    """The character index to cut `text` at so the head fits `budget_bytes`, at a line end if
    one is in the second half of the head."""
    fits = len(text.encode()[: max(budget_bytes, 0)].decode(errors="ignore"))
    line_end = text.rfind("\n", 0, fits)
    return line_end if line_end > fits // 2 else fits


def compose(
    replies: Sequence[Reply], *, traditional: bool = False, limit: int = MAX_REPLY_BYTES
) -> WechatPage:
    """All replies of one turn as one page (WeChat allows one passive reply per message)."""
    body = "\n\n".join(reply.text.strip() for reply in replies if reply.text.strip())
    choices: list[Choice] = []
    for reply in replies:
        choices.extend(c for c in reply.choices if c.payload not in {x.payload for x in choices})
    citations = list(
        dict.fromkeys(source.citation for reply in replies for source in reply.sources)
    )
    return paginate(body, tuple(choices), citations, traditional=traditional, limit=limit)


def paginate(
    body: str,
    choices: tuple[Choice, ...],
    citations: Sequence[str],
    *,
    traditional: bool = False,
    limit: int,
) -> WechatPage:
    """One page of `body`; the rest (with the citations it lacks) waits behind 看后面."""
    whole = with_choices(body, choices, traditional=traditional)
    if byte_length(whole) <= limit:
        return WechatPage(whole, choices, traditional=traditional)
    more = MORE_LABEL_TRADITIONAL if traditional else MORE_LABEL
    paged_choices = (*choices, Choice(more, MORE_PAYLOAD))
    citation_block = "\n".join(citations)
    reserve = (
        byte_length(choice_lines(paged_choices, traditional=traditional))
        + byte_length(citation_block)
        + 8
    )
    cut = cut_point(body, limit - reserve)
    head, rest = body[:cut].rstrip(), body[cut:].lstrip("\n")
    head_citations = [c for c in citations if c not in head]
    rest_citations = [c for c in citations if c not in rest]
    if head_citations:
        head = head + "\n" + "\n".join(head_citations)
    if rest_citations:
        rest = rest + "\n" + "\n".join(rest_citations)
    return WechatPage(
        with_choices(head, paged_choices, traditional=traditional), paged_choices, rest, traditional
    )


def next_page(
    rest: str,
    choices: tuple[Choice, ...],
    *,
    traditional: bool = False,
    limit: int = MAX_REPLY_BYTES,
) -> WechatPage:
    """The page after 看后面: the kept rest, same choices; its citation lines go on every page."""
    kept = tuple(choice for choice in choices if choice.payload != MORE_PAYLOAD)
    citations = [line for line in rest.splitlines() if line.startswith(CITATION_PREFIX)]
    return paginate(rest, kept, citations, traditional=traditional, limit=limit)
