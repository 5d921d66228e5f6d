"""The flow list: its order is the priority, a new flow is one entry, passing flows tidy up."""

from __future__ import annotations

from handlers.dialogue import Dialogue
from handlers.flow import Flow
from handlers.flows import build_flows
from handlers.leftovers import LeftoversFlow
from handlers.legal_aid import LegalAidEntry
from handlers.messages import IncomingMessage, MessageKind, Reply, Turn
from handlers.questions import QuestionFlow
from handlers.state import ConversationState, MemoryDialogueStore
from handlers.topics import TopicsFlow
from knowledge.match import Matcher

USER = "te-flows"


class EchoFlow(Flow):
    """A stand-in for a new feature: takes 回声 and says so."""

    def is_mine(self, message: IncomingMessage, state: ConversationState) -> bool:
        return message.text == "回声"

    async def handle(self, message: IncomingMessage, state: ConversationState) -> Turn:
        return Turn((Reply("回声回来了"),))


class NoticeFlow(Flow):
    """Never takes a message; leaves a notice each time it is passed."""

    def is_mine(self, message: IncomingMessage, state: ConversationState) -> bool:
        return False

    async def handle(self, message: IncomingMessage, state: ConversationState) -> Turn:
        raise AssertionError("never mine")

    def passed(self, message: IncomingMessage, state: ConversationState) -> Reply | None:
        return Reply("先说一句")


def test_without_a_desk_or_subscriptions_the_list_has_no_such_flows(matcher: Matcher) -> None:
    kinds = [type(flow) for flow in build_flows(matcher, MemoryDialogueStore())]
    assert kinds.index(LegalAidEntry) < kinds.index(TopicsFlow)  # 法律援助 topic button
    assert kinds[-2:] == [LeftoversFlow, QuestionFlow]


async def test_a_new_flow_is_one_entry_in_the_list(matcher: Matcher) -> None:
    store = MemoryDialogueStore()
    flows = (EchoFlow(), *build_flows(matcher, store))
    dialogue = Dialogue(flows, store, converter=matcher.converter)
    turn = await dialogue.handle(IncomingMessage.typed(USER, "test", "回声"))
    assert [reply.text for reply in turn.replies] == ["回声回来了"]
    # Everything else still reaches the flows it did.
    turn = await dialogue.handle(IncomingMessage.typed(USER, "test", "欠薪怎么办"))
    assert turn.question is not None and turn.question.clause == "1.1.1"


async def test_notices_of_passed_flows_come_first(matcher: Matcher) -> None:
    store = MemoryDialogueStore()
    flows = (NoticeFlow(), *build_flows(matcher, store))
    dialogue = Dialogue(flows, store, converter=matcher.converter)
    turn = await dialogue.handle(IncomingMessage.pressed(USER, "test", "menu"))
    assert turn.replies[0].text == "先说一句" and turn.replies[1].choices


async def test_an_earlier_flow_wins(matcher: Matcher) -> None:
    store = MemoryDialogueStore()
    flows = build_flows(matcher, store)
    dialogue = Dialogue((*flows[:-1], EchoFlow(), flows[-1]), store, converter=matcher.converter)
    # Leftovers (before the echo) take every command, so /echo never reaches it.
    reply = (await dialogue.handle(IncomingMessage.typed(USER, "test", "/echo"))).replies[0]
    assert "怎么用" in reply.text


async def test_state_is_saved_only_when_a_flow_changed_it(matcher: Matcher) -> None:
    store = MemoryDialogueStore()
    dialogue = Dialogue(build_flows(matcher, store), store, converter=matcher.converter)
    await dialogue.handle(IncomingMessage.pressed(USER, "test", "menu"))
    assert store.states[USER] == {"known": True}
    store.states[USER] = {"known": True, "legacy": "kept until a change"}
    await dialogue.handle(IncomingMessage.pressed(USER, "test", "menu"))
    assert store.states[USER] == {"known": True, "legacy": "kept until a change"}


async def test_a_sticker_gets_the_hint_even_with_stale_state(matcher: Matcher) -> None:
    store = MemoryDialogueStore()
    store.states[USER] = {"known": True, "forget_asked": True}
    dialogue = Dialogue(build_flows(matcher, store), store, converter=matcher.converter)
    turn = await dialogue.handle(IncomingMessage(USER, "test", MessageKind.UNSUPPORTED))
    assert "打字" in turn.replies[0].text
