"""The typed conversation state and its stored JSON: round trips, and rows older versions wrote."""

from __future__ import annotations

from datetime import UTC, datetime

from handlers.draft import ReferralDraft, Step
from handlers.state import ConversationState, LastQuestion, Script


def test_an_empty_state_is_stored_as_an_empty_mapping() -> None:
    assert ConversationState().to_json() == {}
    assert ConversationState.from_json({}) == ConversationState()


def test_a_full_state_survives_its_json() -> None:
    state = ConversationState(
        known=True,
        script=Script.TRADITIONAL,
        last_question=LastQuestion(7, "老板欠薪"),
        legal_aid=ReferralDraft(
            step=Step.EMPLOYER,
            at=datetime(2027, 1, 15, 9, 0, tzinfo=UTC),
            consent_at=datetime(2027, 1, 15, 8, 58, tzinfo=UTC),
            consent_version="2026-11-29",
            category="wages",
            district="武清区",
            phone="13812345678",
        ),
        forget_asked=True,
    )
    assert ConversationState.from_json(state.to_json()) == state


def test_rows_stored_by_the_dict_based_dialogue_still_load() -> None:
    stored = {
        "known": True,
        "script": "simplified",
        "last_question": {"id": 3, "text": "社保能转吗"},
        "legal_aid": {
            "step": "description",
            "at": "2027-01-15T09:00:00+00:00",
            "consent_at": "2027-01-15T08:59:00+00:00",
            "consent_version": "2026-11-29",
            "category": "injury",
            "district": "河西区",
            "phone": "13912345678",
            "employer": None,
        },
    }
    state = ConversationState.from_json(stored)
    assert state.script == Script.SIMPLIFIED and state.last_question == LastQuestion(
        3, "社保能转吗"
    )
    draft = state.legal_aid
    assert draft is not None and draft.step == Step.DESCRIPTION and draft.employer is None
    assert draft.at == datetime(2027, 1, 15, 9, 0, tzinfo=UTC)
    # Written back in the same shape (a skipped employer is simply not there).
    assert state.to_json()["legal_aid"]["phone"] == "13912345678"
    assert "employer" not in state.to_json()["legal_aid"]


def test_unreadable_parts_are_dropped_not_fatal() -> None:
    state = ConversationState.from_json(
        {
            "script": "cyrillic",
            "last_question": {"id": "x"},
            "legal_aid": "not a draft",
            "unknown_key": 1,
        }
    )
    assert state == ConversationState()
    draft = ReferralDraft.from_json({"step": "teleport", "at": "yesterday"})
    assert draft == ReferralDraft(step=Step.CONSENT, at=None)


def test_clear_forgets_everything() -> None:
    state = ConversationState(known=True, script=Script.TRADITIONAL, forget_asked=True)
    state.clear()
    assert state == ConversationState()
