"""Campaign news inside answers: during a drive's window, answers on its topics add what the
organisers announced (job-fair dates and places), behind a small store interface."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Protocol

from handlers import texts
from handlers.messages import Reply

# Campaign windows are Tianjin dates; China has no daylight saving time.
CHINA_TIME = timezone(timedelta(hours=8))


@dataclass(frozen=True, slots=True)
class CampaignNotice:
    code: str
    name: str
    info: str


class CampaignNotices(Protocol):
    """The campaigns running on a day, with their current information."""

    async def notices_for(self, topic: str, today: date) -> Sequence[CampaignNotice]:
        """Campaigns whose window holds `today` and whose topics include `topic`."""
        ...


def today_in_tianjin(now: datetime | None = None) -> date:
    return (now or datetime.now(CHINA_TIME)).astimezone(CHINA_TIME).date()


async def add_campaign_notices(
    notices: CampaignNotices | None, reply: Reply, topic: str | None, *, today: date | None = None
) -> Reply:
    """The reply with each running campaign's information on the answer's topic appended."""
    if notices is None or topic is None:
        return reply
    found = await notices.notices_for(topic, today or today_in_tianjin())
    extra = "".join(
        texts.CAMPAIGN_NOTICE_LINE.format(name=n.name, info=n.info) for n in found if n.info
    )
    if not extra:
        return reply
    return Reply(reply.text + extra, reply.choices, reply.sources)
