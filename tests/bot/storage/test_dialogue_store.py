"""The dialogue on the database store: state, people and questions survive a new store (a restart
or another process), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from bot.storage.dialogue_store import SqlDialogueStore
from bot.storage.repositories.conversations import (
    forget_user,
    list_questions,
    list_users,
    purge_question_texts,
)
from handlers.flows import build_dialogue
from handlers.messages import IncomingMessage
from knowledge.lexicon import Lexicon
from knowledge.match import Matcher
from tests.handlers.conftest import sample_knowledge

USER = "te-person"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    lexicon = Lexicon(synonyms=MappingProxyType({"欠薪": "拖欠工资"}), user_words=())
    return Matcher([sample_knowledge()], lexicon)


def typed(text: str) -> IncomingMessage:
    return IncomingMessage.typed(USER, "test", text, language="zh-hant")


async def test_state_survives_a_new_store(engine: Engine, matcher: Matcher) -> None:
    await build_dialogue(matcher, SqlDialogueStore(engine)).handle(typed("老闆欠薪怎麼辦"))
    restarted = build_dialogue(matcher, SqlDialogueStore(engine))
    reply = (await restarted.handle(IncomingMessage.pressed(USER, "test", "menu"))).replies[0]
    assert "哪方面" in reply.text or "類別" in reply.text
    assert any("資" in choice.label for choice in reply.choices)  # still Traditional


async def test_questions_and_feedback_are_stored_without_text(
    engine: Engine, matcher: Matcher
) -> None:
    dialogue = build_dialogue(matcher, SqlDialogueStore(engine))
    turn = await dialogue.handle(typed("欠薪怎么办"))
    useful = next(c for c in turn.replies[0].choices if c.payload.endswith(":1"))
    await build_dialogue(matcher, SqlDialogueStore(engine)).handle(
        IncomingMessage.pressed(USER, "test", useful.payload)
    )
    with Session(engine) as session:
        (question,) = list_questions(session=session)
    assert question.clause_id == "1.1.1" and question.useful is True and question.text is None
    assert question.score > 0


async def test_not_useful_keeps_the_text(engine: Engine, matcher: Matcher) -> None:
    dialogue = build_dialogue(matcher, SqlDialogueStore(engine))
    turn = await dialogue.handle(typed("欠薪怎么办"))
    not_useful = next(c for c in turn.replies[0].choices if c.payload.endswith(":0"))
    await dialogue.handle(IncomingMessage.pressed(USER, "test", not_useful.payload))
    with Session(engine) as session:
        (question,) = list_questions(session=session)
    assert question.useful is False and question.text == "欠薪怎么办"


async def test_unanswered_questions_keep_their_text_until_retention(
    engine: Engine, matcher: Matcher
) -> None:
    await build_dialogue(matcher, SqlDialogueStore(engine)).handle(typed("明天下雨吗"))
    with Session(engine) as session:
        assert list_questions(session=session)[0].text == "明天下雨吗"
        later = datetime.now(UTC) + timedelta(days=31)
        assert purge_question_texts(older_than=timedelta(days=30), session=session, now=later) == 1
        session.commit()
        assert list_questions(session=session)[0].text is None
    assert await SqlDialogueStore(engine).load_state(USER) == {}


async def test_deep_link_source_and_language_are_recorded(engine: Engine, matcher: Matcher) -> None:
    await build_dialogue(matcher, SqlDialogueStore(engine)).handle(typed("/start chunfeng_xiqing"))
    with Session(engine) as session:
        (user,) = list_users(session=session)
    assert user.user_key == USER and user.source == "chunfeng_xiqing" and user.language == "zh-hant"


async def test_forgetting_a_person_removes_state_and_texts(
    engine: Engine, matcher: Matcher
) -> None:
    dialogue = build_dialogue(matcher, SqlDialogueStore(engine))
    await dialogue.handle(typed("明天下雨吗"))
    with Session(engine) as session:
        forget_user(USER, session=session)
        session.commit()
        assert list_questions(session=session)[0].text is None
    assert await SqlDialogueStore(engine).load_state(USER) == {}
