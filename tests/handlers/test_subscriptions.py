"""Campaign news by explicit opt-in, and campaign information in answers during the window."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pytest

from handlers.campaigns import CampaignNotice, add_campaign_notices, today_in_tianjin
from handlers.dialogue import Dialogue
from handlers.flows import build_dialogue
from handlers.messages import IncomingMessage, Reply
from handlers.state import MemoryDialogueStore
from handlers.subscriptions import MemorySubscriptionStore, Subscriptions
from knowledge.match import Matcher

USER = "te-user1"
CHAT = "4242"


class FixedNotices:
    """Campaigns on `rights` between two dates, as the database would answer."""

    def __init__(self, first: date, last: date) -> None:
        self.first, self.last = first, last

    async def notices_for(self, topic: str, today: date) -> Sequence[CampaignNotice]:
        if topic == "rights" and self.first <= today <= self.last:
            return [CampaignNotice("chunnuan2027", "春暖农民工", "2月10日在西青区有维权咨询。")]
        return []


@pytest.fixture
def subscriptions() -> MemorySubscriptionStore:
    return MemorySubscriptionStore()


@pytest.fixture
def subscribing_dialogue(matcher: Matcher, subscriptions: MemorySubscriptionStore) -> Dialogue:
    return build_dialogue(
        matcher, MemoryDialogueStore(), subscriptions=Subscriptions(subscriptions)
    )


def typed(text: str, address: str | None = CHAT) -> IncomingMessage:
    return IncomingMessage.typed(USER, "test", text, address=address)


def pressed(payload: str) -> IncomingMessage:
    return IncomingMessage.pressed(USER, "test", payload, address=CHAT)


async def test_subscribe_opts_in_with_the_address_and_offers_topic_buttons(
    subscribing_dialogue: Dialogue, subscriptions: MemorySubscriptionStore
) -> None:
    (reply,) = (await subscribing_dialogue.handle(typed("/subscribe"))).replies
    assert "已订阅" in reply.text and "退订" in reply.text
    assert "只收：找工作·创业" in [choice.label for choice in reply.choices]
    assert subscriptions.subscribers[USER] == ("test", CHAT, [])


async def test_nobody_is_subscribed_without_asking(
    subscribing_dialogue: Dialogue, subscriptions: MemorySubscriptionStore
) -> None:
    await subscribing_dialogue.handle(typed("/start chunfeng2027_xiqing"))
    await subscribing_dialogue.handle(typed("欠薪怎么办"))
    assert subscriptions.subscribers == {}


async def test_topic_buttons_narrow_the_subscription(
    subscribing_dialogue: Dialogue, subscriptions: MemorySubscriptionStore
) -> None:
    await subscribing_dialogue.handle(typed("/subscribe"))
    await subscribing_dialogue.handle(pressed("sub:jobs"))
    (reply,) = (await subscribing_dialogue.handle(pressed("sub:rights"))).replies
    assert "找工作·创业、工资·合同·工伤" in reply.text
    assert subscriptions.subscribers[USER][2] == ["jobs", "rights"]
    await subscribing_dialogue.handle(pressed("sub:all"))
    assert subscriptions.subscribers[USER][2] == []


@pytest.mark.parametrize("opt_out", ["退订", "/unsubscribe", "取消订阅", "退訂", "TD"])
async def test_opting_out_forgets_the_address(
    subscribing_dialogue: Dialogue, subscriptions: MemorySubscriptionStore, opt_out: str
) -> None:
    await subscribing_dialogue.handle(typed("/subscribe"))
    (reply,) = (await subscribing_dialogue.handle(typed(opt_out))).replies
    # Traditional in, Traditional out.
    expected = "已退訂" if opt_out == "退訂" else "已退订"
    assert expected in reply.text and USER not in subscriptions.subscribers


async def test_opting_out_when_not_subscribed_says_so(subscribing_dialogue: Dialogue) -> None:
    (reply,) = (await subscribing_dialogue.handle(typed("退订"))).replies
    assert "没有订阅" in reply.text


async def test_a_channel_that_cannot_reach_the_person_does_not_subscribe(
    subscribing_dialogue: Dialogue, subscriptions: MemorySubscriptionStore
) -> None:
    (reply,) = (await subscribing_dialogue.handle(typed("订阅", address=None))).replies
    assert "不能推送" in reply.text and subscriptions.subscribers == {}


async def test_questions_still_get_answers_with_subscriptions_on(
    subscribing_dialogue: Dialogue,
) -> None:
    (reply,) = (await subscribing_dialogue.handle(typed("欠薪怎么办"))).replies
    assert "依据：《示例方案》一（一）1" in reply.text


async def test_answers_carry_campaign_information_inside_its_window(matcher: Matcher) -> None:
    today = today_in_tianjin()
    running = build_dialogue(matcher, MemoryDialogueStore(), campaigns=FixedNotices(today, today))
    (reply,) = (await running.handle(typed("欠薪怎么办"))).replies
    assert "📢 春暖农民工：2月10日在西青区有维权咨询。" in reply.text
    (other_topic,) = (await running.handle(typed("孩子念书的事"))).replies
    assert "📢" not in other_topic.text


async def test_answers_outside_the_window_carry_nothing() -> None:
    notices = FixedNotices(date(2027, 2, 1), date(2027, 2, 28))
    reply = Reply("答案")
    after = await add_campaign_notices(notices, reply, "rights", today=date(2027, 3, 1))
    inside = await add_campaign_notices(notices, reply, "rights", today=date(2027, 2, 28))
    assert after == reply and inside.text.startswith("答案\n\n📢 春暖农民工")


async def test_a_channel_broadcasts_never_reach_does_not_subscribe(
    matcher: Matcher, subscriptions: MemorySubscriptionStore
) -> None:
    store = Subscriptions(subscriptions, broadcast_channels=frozenset({"telegram"}))
    dialogue = build_dialogue(matcher, MemoryDialogueStore(), subscriptions=store)
    wechat = IncomingMessage.typed("wx-user", "wechat", "订阅", address="oOpenid")
    (reply,) = (await dialogue.handle(wechat)).replies
    assert "不能推送" in reply.text and subscriptions.subscribers == {}
