"""Job postings as the dialogue sees them: the board interface the bot implements on the
database, and how a posting, a list and a digest read. Every posting shown names its source and
import date and says the bot did not check it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from handlers import texts
from handlers.cases import BEIJING
from handlers.messages import Choice, IncomingMessage, Reply
from knowledge.jobs import JobPreferences

PAYLOAD_PREFIX = "job:"
OPEN = "open"
REPORT = "report"


@dataclass(frozen=True, slots=True)
class PostingView:
    id: int
    title: str
    employer: str
    district: str
    address: str
    trade: str
    pay_min: float
    pay_max: float
    pay_unit: str
    shift: str
    board: str
    phone: str
    valid_until: date
    source: str
    imported_at: datetime


class JobBoard(Protocol):
    """Postings and preferences in storage."""

    async def preferences_of(self, user_key: str) -> JobPreferences | None: ...

    async def save_preferences(
        self, user_key: str, channel: str, *, address: str | None, wanted: JobPreferences
    ) -> None: ...

    async def remove_preferences(self, user_key: str) -> bool:
        """/jobs off; False when nothing was set."""

    async def best_matches(
        self, user_key: str, wanted: JobPreferences, *, limit: int
    ) -> list[PostingView]:
        """The best live postings for these wishes, recorded as shown to the person."""

    async def open_posting(self, user_key: str, posting_id: int) -> PostingView | None:
        """A live posting (its opening counted), or None once expired or hidden."""

    async def report_posting(self, user_key: str, posting_id: int) -> bool: ...

    async def held_digests(self, message: IncomingMessage) -> list[Reply]:
        """Note the person's message; digests kept for them (WeChat outside its window)."""


def _amount(value: float) -> str:
    return f"{value:g}"


def pay_text(view: PostingView) -> str:
    if view.pay_max > view.pay_min:
        return texts.JOBS_PAY_RANGE.format(
            low=_amount(view.pay_min), high=_amount(view.pay_max), unit=view.pay_unit
        )
    return texts.JOBS_PAY_SINGLE.format(low=_amount(view.pay_min), unit=view.pay_unit)


def posting_line(view: PostingView, number: int) -> str:
    imported = view.imported_at.astimezone(BEIJING)
    return texts.JOBS_LINE.format(
        n=number,
        title=view.title,
        employer=view.employer,
        district=view.district,
        trade=view.trade,
        pay=pay_text(view),
        source=view.source,
        month=imported.month,
        day=imported.day,
    )


def _given(value: str) -> str:
    return value or texts.JOBS_NOT_GIVEN


def posting_detail(view: PostingView) -> Reply:
    imported = view.imported_at.astimezone(BEIJING)
    text = texts.JOBS_DETAIL.format(
        title=view.title,
        employer=view.employer,
        district=view.district,
        address=view.address,
        trade=view.trade,
        pay=pay_text(view),
        shift=_given(view.shift),
        board=_given(view.board),
        phone=_given(view.phone),
        valid_until=view.valid_until.isoformat(),
        source=view.source,
        month=imported.month,
        day=imported.day,
    )
    return Reply(
        f"{text}\n{texts.JOBS_UNVERIFIED}",
        (Choice(texts.JOBS_REPORT_LABEL, f"{PAYLOAD_PREFIX}{REPORT}:{view.id}"),),
    )


def open_choices(posting_ids: Sequence[int]) -> tuple[Choice, ...]:
    return tuple(
        Choice(texts.JOBS_OPEN_LABEL.format(n=n), f"{PAYLOAD_PREFIX}{OPEN}:{posting_id}")
        for n, posting_id in enumerate(posting_ids, 1)
    )


def posting_list(header: str, views: Sequence[PostingView], *, footer: str = "") -> Reply:
    """A numbered list of postings with 看第n条 buttons."""
    lines = [header, *(posting_line(view, n) for n, view in enumerate(views, 1))]
    lines.append(texts.JOBS_UNVERIFIED)
    if footer:
        lines.append(footer)
    return Reply("\n".join(lines), open_choices([view.id for view in views]))


def digest_text(views: Sequence[PostingView]) -> str:
    """The daily digest: the new postings, then how to change or stop it."""
    header = texts.JOBS_DIGEST_HEADER.format(count=len(views))
    return posting_list(header, views, footer=texts.JOBS_DIGEST_FOOTER).text
