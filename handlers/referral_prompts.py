"""The legal-aid referral's prompts: what each step asks, the buttons it shows (each carrying
its step, so a press counts only there), reading a pressed one back, and the answers' limits."""

from __future__ import annotations

from dataclasses import dataclass, replace

from handlers import texts
from handlers.cases import CATEGORIES, DISTRICTS
from handlers.draft import ReferralDraft, Step
from handlers.messages import Choice, Reply
from handlers.payloads import Payload

PAYLOAD_KIND = "la"
PAYLOAD_PREFIX = PAYLOAD_KIND + ":"
CANCEL = "cancel"
SUBMIT = "submit"
# Buttons from before they carried their step (`la:dist:3`, `la:submit`): still honoured, but only
# at the step they belong to.
_UNSTEPPED = {
    "yes": Step.CONSENT,
    "no": Step.CONSENT,
    "cat": Step.CATEGORY,
    "dist": Step.DISTRICT,
    "skip": Step.EMPLOYER,
    SUBMIT: Step.CONFIRM,
}
_STEPS = {step.value: step for step in Step}
# What typed answers may be; the channels' own text limits must leave room for the description.
MAX_EMPLOYER_CHARS = 60
MIN_DESCRIPTION_CHARS = 6
MAX_DESCRIPTION_CHARS = 800
SUMMARY_DESCRIPTION_CHARS = 120


def cancel_choice() -> Choice:
    return Choice(texts.CANCEL_LABEL, PAYLOAD_PREFIX + CANCEL)


def step_choice(label: str, step: Step, value: str) -> Choice:
    """A button that answers `step` (and only it): `la:<step>:<value>`."""
    return Choice(label, f"{PAYLOAD_PREFIX}{step.value}:{value}")


@dataclass(frozen=True, slots=True)
class ButtonAnswer:
    """A legal-aid button: the step it answers (None for 取消, which fits every step)."""

    step: Step | None
    value: str


def read_button(payload: Payload | None) -> ButtonAnswer | None:
    """`la:<step>:<value>`, `la:cancel`, or an unstepped button of an older version."""
    if payload is None or payload.kind != PAYLOAD_KIND:
        return None
    fields = payload.fields
    if fields == (CANCEL,):
        return ButtonAnswer(None, CANCEL)
    if len(fields) == 2 and fields[0] in _STEPS:
        return ButtonAnswer(_STEPS[fields[0]], fields[1])
    if len(fields) == 1 and fields[0] in _UNSTEPPED:
        return ButtonAnswer(_UNSTEPPED[fields[0]], fields[0])
    if len(fields) == 2 and fields[0] in ("cat", "dist"):
        return ButtonAnswer(_UNSTEPPED[fields[0]], fields[1])
    return None


def step_prompt(draft: ReferralDraft, *, retention_days: int, hint: str | None = None) -> Reply:
    """The current step's question (after a hint when the last answer didn't fit)."""
    step = draft.step
    cancel = cancel_choice()
    reply: Reply
    if step == Step.CONSENT:
        reply = Reply(
            texts.LEGAL_AID_INTRO.format(retention_days=retention_days),
            (
                step_choice(texts.CONSENT_YES, step, "yes"),
                step_choice(texts.CONSENT_NO, step, "no"),
            ),
        )
    elif step == Step.CATEGORY:
        choices = tuple(step_choice(label, step, key) for key, label in CATEGORIES.items())
        reply = Reply(texts.ASK_CATEGORY, (*choices, cancel))
    elif step == Step.DISTRICT:
        choices = tuple(step_choice(name, step, str(i)) for i, name in enumerate(DISTRICTS))
        reply = Reply(texts.ASK_DISTRICT, (*choices, cancel))
    elif step == Step.PHONE:
        reply = Reply(texts.ASK_PHONE, (cancel,), asks_phone=True)
    elif step == Step.EMPLOYER:
        reply = Reply(texts.ASK_EMPLOYER, (step_choice(texts.SKIP_LABEL, step, "skip"), cancel))
    elif step == Step.DESCRIPTION:
        reply = Reply(texts.ASK_DESCRIPTION.format(max_chars=MAX_DESCRIPTION_CHARS), (cancel,))
    else:
        reply = Reply(
            summary(draft),
            (step_choice(texts.SUBMIT_LABEL, step, SUBMIT), cancel),
        )
    return replace(reply, text=f"{hint}\n\n{reply.text}") if hint else reply


def summary(draft: ReferralDraft) -> str:
    """What the worker is about to submit, for them to check."""
    description = draft.description or ""
    if len(description) > SUMMARY_DESCRIPTION_CHARS:
        description = description[:SUMMARY_DESCRIPTION_CHARS] + "…"
    return texts.CONFIRM_SUMMARY.format(
        category=CATEGORIES.get(draft.category or "", ""),
        district=draft.district or "",
        phone=draft.phone or "",
        employer=draft.employer or texts.NOT_FILLED,
        description=description,
    )
