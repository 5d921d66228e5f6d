"""The dialogue on neutral messages: routing, answers with citations, feedback, scripts, menus."""

from __future__ import annotations

from handlers.dialogue import Dialogue
from handlers.messages import IncomingMessage, MessageKind
from handlers.state import MemoryDialogueStore

USER = "te-user1"


def typed(text: str) -> IncomingMessage:
    return IncomingMessage.typed(USER, "test", text, language="zh-hans")


def pressed(payload: str) -> IncomingMessage:
    return IncomingMessage.pressed(USER, "test", payload)


async def test_a_question_gets_a_cited_answer_with_buttons(dialogue: Dialogue) -> None:
    turn = await dialogue.handle(typed("包工头欠薪三个月了怎么办"))
    (reply,) = turn.replies
    assert "依据：《示例方案》一（一）1" in reply.text
    assert reply.sources[0].clause == "1.1.1"
    labels = [choice.label for choice in reply.choices]
    assert "查看原文" in labels and "👍 有用" in labels and "👎 没用" in labels
    assert turn.question is not None and turn.question.clause == "1.1.1"


async def test_own_dispute_offers_legal_aid_first(dialogue: Dialogue) -> None:
    turn = await dialogue.handle(typed("老板欠了我两个月工资不给"))
    reply = turn.replies[0]
    assert "12351" in reply.text
    assert reply.choices[0].payload == "legal"
    assert turn.question is not None and turn.question.handoff


async def test_full_text_button_shows_the_clause(dialogue: Dialogue) -> None:
    await dialogue.handle(typed("孩子念书的事"))
    reply = (await dialogue.handle(pressed("full:sample-plan:1.1.3"))).replies[0]
    assert "统筹安排符合条件的农民工随迁子女在公办学校就读" in reply.text


async def test_useful_feedback_is_stored_without_text(
    dialogue: Dialogue, store: MemoryDialogueStore
) -> None:
    turn = await dialogue.handle(typed("欠薪怎么办"))
    useful = next(c for c in turn.replies[0].choices if c.label == "👍 有用")
    reply = (await dialogue.handle(pressed(useful.payload))).replies[0]
    assert "谢谢" in reply.text
    (question,) = store.questions.values()
    assert question.useful is True and question.text is None


async def test_not_useful_feedback_keeps_the_text_for_review(
    dialogue: Dialogue, store: MemoryDialogueStore
) -> None:
    turn = await dialogue.handle(typed("欠薪怎么办"))
    not_useful = next(c for c in turn.replies[0].choices if c.label == "👎 没用")
    await dialogue.handle(pressed(not_useful.payload))
    (question,) = store.questions.values()
    assert question.useful is False and question.text == "欠薪怎么办"


async def test_feedback_on_someone_elses_question_changes_nothing(
    dialogue: Dialogue, store: MemoryDialogueStore
) -> None:
    turn = await dialogue.handle(typed("欠薪怎么办"))
    useful = next(c for c in turn.replies[0].choices if c.label == "👍 有用")
    other = IncomingMessage.pressed("te-someone-else", "test", useful.payload)
    reply = (await dialogue.handle(other)).replies[0]
    assert "过期" in reply.text
    assert next(iter(store.questions.values())).useful is None


async def test_out_of_scope_gets_the_fallback_and_no_citation(
    dialogue: Dialogue, store: MemoryDialogueStore
) -> None:
    turn = await dialogue.handle(typed("明天下雨吗"))
    reply = turn.replies[0]
    assert "依据" not in reply.text and not reply.sources
    assert reply.choices[-1].payload == "menu"
    (question,) = store.questions.values()
    assert question.record.fallback and question.text == "明天下雨吗"


async def test_traditional_in_traditional_out(dialogue: Dialogue) -> None:
    reply = (await dialogue.handle(typed("孩子能在公辦學校念書嗎"))).replies[0]
    assert "學" in reply.text and "依據" in reply.text


async def test_buttons_after_a_traditional_question_stay_traditional(dialogue: Dialogue) -> None:
    await dialogue.handle(typed("老闆欠薪怎麼辦"))
    reply = (await dialogue.handle(pressed("menu"))).replies[0]
    assert "類別" in reply.text or "哪方面" in reply.text
    assert any("資" in choice.label for choice in reply.choices)


async def test_topic_menu_leads_to_clauses_and_explanations(dialogue: Dialogue) -> None:
    menu = (await dialogue.handle(typed("/topics"))).replies[0]
    school = next(choice for choice in menu.choices if choice.label == "孩子上学")
    clauses = (await dialogue.handle(pressed(school.payload))).replies[0]
    assert clauses.choices[0].payload == "ans:sample-plan:1.1.3"
    explanation = (await dialogue.handle(pressed("ans:sample-plan:1.1.3"))).replies[0]
    assert "公办学校" in explanation.text and "依据" in explanation.text


async def test_start_with_a_payload_records_the_source(
    dialogue: Dialogue, store: MemoryDialogueStore
) -> None:
    reply = (await dialogue.handle(typed("/start chunfeng2027_xiqing"))).replies[0]
    assert "你好" in reply.text and reply.choices
    assert store.users[USER].source == "chunfeng2027_xiqing"
    assert store.users[USER].language == "zh-hans"


async def test_start_with_an_invalid_payload_records_no_source(
    dialogue: Dialogue, store: MemoryDialogueStore
) -> None:
    await dialogue.handle(typed("/start <script>"))
    assert store.users[USER].source is None


async def test_stickers_and_photos_get_a_hint(dialogue: Dialogue) -> None:
    message = IncomingMessage(USER, "test", MessageKind.UNSUPPORTED)
    assert "打字" in (await dialogue.handle(message)).replies[0].text


async def test_legal_aid_words_give_the_union_contacts(dialogue: Dialogue) -> None:
    reply = (await dialogue.handle(typed("找律师"))).replies[0]
    assert "知工" in reply.text and "12351" in reply.text


async def test_stale_or_forged_buttons_are_handled(dialogue: Dialogue) -> None:
    for payload in ("ans:nope:9.9", "full:sample-plan:7", "topic:unknown", "fb:abc:1", "garbage"):
        reply = (await dialogue.handle(pressed(payload))).replies[0]
        assert reply.text


async def test_bad_input_gets_a_sensible_reply(dialogue: Dialogue) -> None:
    for text in (
        "",
        "   ",
        "😀😀",
        "\u202e\u200f",
        "<b>x</b>'; DROP TABLE users;--",
        "𠀀𪚥",
        "欠" * 20_000,
    ):
        turn = await dialogue.handle(typed(text))
        assert turn.replies and turn.replies[0].text
