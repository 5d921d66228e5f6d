"""Legal-aid referrals on Telegram whose consecutive updates hop between `policybot serve`
processes: each update is injected at the fake Bot API (so its replies are counted there) and
POSTed, as Telegram would, to the webhook of a process picked at random. A worker whose update
reached a process that died re-taps (a new update, same content) at a live one; the referral's
steps are idempotent, so a re-tap never moves the draft twice. After the receipt a staff member
presses 接单 on the case's card, also at a random process.

Nothing here asserts: the outcome of every referral is recorded for the test's checks.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from handlers import texts
from tests.bot.scaleout_cluster import Cluster
from tests.fake_telegram import FakeTelegramServer, SentCall

CASE_NUMBER = re.compile(r"LA-\d{8}-\d{4}")
WEBHOOK_PATH = "/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TEXT, BUTTON = "text", "button"
# A loaded two-core machine answers slowly; these only bound a hang, they decide nothing.
REPLY_TIMEOUT_SECONDS = 120.0
# How long a reply may still come from a process that has just died (it was already sent).
DEAD_GRACE_SECONDS = 2.0
POLL_SECONDS = 0.05
MAX_TAPS = 6
STEPS = 8
SUBMIT_STEP = 7


@dataclass
class Referral:
    user: int
    category: str
    district: str
    phone: str
    employer: str
    description: str
    double_submit: bool
    number: str | None = None  # the number its receipt showed
    receipts: int = 0  # messages showing a case number (two for a doubled submit, before the fix)
    claimed: bool = False
    problems: list[str] = field(default_factory=list)

    def step(self, index: int) -> tuple[str, str, Callable[[SentCall], bool]]:
        """What the worker sends at `index` (a typed text or a button's label) and how the
        answer that moves on is recognised."""
        return (
            (TEXT, "/legalaid", has_button("同意")),
            (BUTTON, "同意", shows(texts.ASK_CATEGORY)),
            (BUTTON, texts.CATEGORY_LABELS[self.category], shows(texts.ASK_DISTRICT)),
            (BUTTON, self.district, shows(texts.ASK_PHONE)),
            (TEXT, self.phone, shows(texts.ASK_EMPLOYER)),
            (TEXT, self.employer, shows(texts.ASK_DESCRIPTION.split("（")[0])),
            (TEXT, self.description, has_button(texts.SUBMIT_LABEL)),
            (BUTTON, texts.SUBMIT_LABEL, shows_case_number),
        )[index]


def has_button(label: str) -> Callable[[SentCall], bool]:
    return lambda call: any(button == label for button, _ in call.buttons)


def shows(fragment: str) -> Callable[[SentCall], bool]:
    return lambda call: fragment in (call.shown_text or call.text or "")


def shows_case_number(call: SentCall) -> bool:
    return CASE_NUMBER.search(call.shown_text or call.text or "") is not None


def make_referrals(count: int, rng: random.Random, first_user: int, doubled: int) -> list[Referral]:
    """`count` workers; the first `doubled` send their 确认提交 to two processes at once."""
    return [
        Referral(
            user=first_user + n,
            category=rng.choice(sorted(texts.CATEGORY_LABELS)),
            district=rng.choice(texts.DISTRICTS),
            phone=f"139{first_user % 1000:03d}{n:05d}",
            employer=f"第{n}号某某建筑劳务公司",
            description=f"包工头拖欠我和工友{n + 2}个月工资，一共{(n + 1) * 3000}元，一直不给",
            double_submit=n < doubled,
        )
        for n in range(count)
    ]


@dataclass
class ReferralDriver:
    """Drives referrals through the cluster's webhooks; `steps_done` counts answered steps (the
    test kills a process once half of them are)."""

    server: FakeTelegramServer
    cluster: Cluster
    http: httpx.AsyncClient
    secret: str
    staff_user: int
    staff_chat: int
    rng: random.Random
    steps_done: int = 0
    retaps: int = 0

    async def run(self, referral: Referral) -> None:
        try:
            for index in range(STEPS):
                if index == SUBMIT_STEP and referral.double_submit:
                    await self._double_submit(referral)
                else:
                    await self._step(referral, index)
                self.steps_done += 1
            self._read_receipts(referral)
            await self._claim(referral)
        except TimeoutError as error:
            referral.problems.append(str(error))

    # ------------------------------------------------------------------ one step

    def _update(self, referral: Referral, kind: str, value: str) -> dict[str, Any]:
        """A fresh update at the fake Bot API: each tap is a new one, as on a phone."""
        if kind == TEXT:
            return self.server.send_text(referral.user, value)
        return self.server.press_button(referral.user, *self._button(referral.user, value))

    def _button(self, chat_id: int, label: str) -> tuple[SentCall, str]:
        """The latest message in `chat_id` with a button `label` (re-asks repeat the prompt)."""
        for message in reversed(self.server.messages_to(chat_id)):
            for button_label, data in message.buttons:
                if button_label == label and data is not None:
                    return message, data
        raise TimeoutError(f"chat {chat_id}: no button {label!r} to press")

    async def _post(self, update: dict[str, Any]) -> Any:
        """POST to a random live process's webhook; the process, or None when it refused."""
        process = self.cluster.pick(self.rng)
        try:
            response = await self.http.post(
                f"{process.base_url}{WEBHOOK_PATH}",
                json=update,
                headers={SECRET_HEADER: self.secret},
                timeout=30,
            )
        except httpx.HTTPError:
            return None
        return process if response.status_code == 200 else None

    async def _step(self, referral: Referral, index: int) -> None:
        kind, value, answered = referral.step(index)
        for _tap in range(MAX_TAPS):
            before = len(self.server.messages_to(referral.user))
            process = await self._post(self._update(referral, kind, value))
            if process is not None and await self._reply(referral.user, before, answered, process):
                return
            self.retaps += 1
        raise TimeoutError(f"worker {referral.user}: step {index} unanswered after {MAX_TAPS} taps")

    async def _reply(
        self, chat_id: int, before: int, answered: Callable[[SentCall], bool], process: Any
    ) -> bool:
        """Wait for the answer that moves on; False once its process died without it."""
        deadline = time.monotonic() + REPLY_TIMEOUT_SECONDS
        dead_since: float | None = None
        while time.monotonic() < deadline:
            if any(answered(call) for call in self.server.messages_to(chat_id)[before:]):
                return True
            if not process.running or process in self.cluster.killed:
                dead_since = dead_since or time.monotonic()
                if time.monotonic() - dead_since > DEAD_GRACE_SECONDS:
                    return False
            await asyncio.sleep(POLL_SECONDS)
        raise TimeoutError(f"chat {chat_id}: no answer within {REPLY_TIMEOUT_SECONDS:.0f} s")

    # ------------------------------------------------------------------ submit and claim

    async def _double_submit(self, referral: Referral) -> None:
        """Two taps of 确认提交 reaching two different processes at once (the original bug:
        two cases)."""
        live = self.cluster.live()
        message, data = self._button(referral.user, texts.SUBMIT_LABEL)
        first = self.server.press_button(referral.user, message, data)
        second = self.server.press_button(referral.user, message, data)
        before = len(self.server.messages_to(referral.user))
        targets = self.rng.sample(live, 2) if len(live) >= 2 else live * 2
        await asyncio.gather(
            *(
                self.http.post(
                    f"{process.base_url}{WEBHOOK_PATH}",
                    json=update,
                    headers={SECRET_HEADER: self.secret},
                    timeout=30,
                )
                for process, update in ((targets[0], first), (targets[1], second))
            ),
            return_exceptions=True,
        )
        if not await self._reply(referral.user, before, shows_case_number, targets[0]):
            await self._step(referral, SUBMIT_STEP)  # both died: tap once more

    def _read_receipts(self, referral: Referral) -> None:
        shown = [
            found.group(0)
            for call in self.server.messages_to(referral.user)
            if (found := CASE_NUMBER.search(call.shown_text or call.text or ""))
        ]
        referral.receipts = len(shown)
        referral.number = shown[0] if shown else None

    async def _card(self, number: str, timeout: float) -> SentCall:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for call in self.server.messages_to(self.staff_chat):
                if number in (call.text or "") and has_button("接单")(call):
                    return call
            await asyncio.sleep(POLL_SECONDS * 4)
        raise TimeoutError(f"no staff card for {number} within {timeout:.0f} s")

    async def _claim(self, referral: Referral) -> None:
        """Staff press 接单 on the case's card, at a random process, until one answers it."""
        assert referral.number is not None
        card = await self._card(referral.number, REPLY_TIMEOUT_SECONDS)
        data = next(data for label, data in card.buttons if label == "接单")
        assert data is not None
        for _tap in range(MAX_TAPS):
            update = self.server.press_button(self.staff_user, card, data)
            query = update["callback_query"]["id"]
            process = await self._post(update)
            if process is not None and await self._answered(query, process):
                referral.claimed = True
                return
            self.retaps += 1
        raise TimeoutError(f"{referral.number}: 接单 unanswered after {MAX_TAPS} taps")

    async def _answered(self, query: str, process: Any) -> bool:
        deadline = time.monotonic() + REPLY_TIMEOUT_SECONDS
        dead_since: float | None = None
        while time.monotonic() < deadline:
            if query in self.server.answered_callback_queries:
                return True
            if not process.running or process in self.cluster.killed:
                dead_since = dead_since or time.monotonic()
                if time.monotonic() - dead_since > DEAD_GRACE_SECONDS:
                    return False
            await asyncio.sleep(POLL_SECONDS)
        raise TimeoutError(
            f"callback query {query} unanswered within {REPLY_TIMEOUT_SECONDS:.0f} s"
        )
