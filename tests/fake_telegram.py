"""A small fake of the Telegram Bot API, served over real HTTP on 127.0.0.1.

End-to-end tests point the real python-telegram-bot `Application` at it::

    async with FakeTelegramServer() as server:
        app = (
            ApplicationBuilder()
            .token(server.token)
            .base_url(server.base_url)  # f"{server.url}/bot"
            .base_file_url(server.base_file_url)  # f"{server.url}/file/bot"
            .build()
        )
        ...
        server.send_text(42, "你好")  # a user writes to the bot
        [reply] = await server.wait_for_messages(42, 1)  # what the bot answered

It is a fake of the outside world, not a mock of our code: it speaks the Bot API wire format
(python-telegram-bot 22 sends `application/x-www-form-urlencoded` with JSON-encoded complex
values such as `reply_markup`, multipart for uploads, and an empty POST for parameterless
methods; JSON bodies and GET query strings are accepted too), answers with objects PTB can
`de_json`, and fails the way Telegram fails (`{"ok": false, "error_code": ..., "description":
...}` with the HTTP status equal to the error code).

What it models:

* `getUpdates` long polling: `offset` confirms (forgets) earlier updates, `timeout` waits for an
  injected update, `limit`, `allowed_updates` (remembered between calls, as Telegram does). A newer
  `getUpdates` ends a pending one with 409 Conflict; while a webhook is set `getUpdates` is a 409.
* Bot messages: per-chat message ids shared with the user's messages, `from` the bot, inline
  keyboards echoed (reply keyboards are not part of a Message, so they are recorded but not echoed),
  edits ("message is not modified", "message to edit not found"), deletes, callback answers.
* HTML `parse_mode` is parsed like Telegram (nesting, `&lt;`-style references, UTF-16 entity
  offsets): bad markup answers 400 "can't parse entities"; the returned Message carries the plain
  text and entities. Stricter than Telegram by default: a bare `&` is an error here (Telegram keeps
  it as text), so a missing `html.escape` always shows. Markdown parse modes are not validated.
* Limits: text > 4096 characters (after parsing) / caption > 1024, empty text, inline button
  `callback_data` over 64 UTF-8 bytes (BUTTON_DATA_INVALID: about 21 Chinese characters).
* Failure injection (`fail_next`, `block_user`) and optional flood limits (`enforce_limits`).

Every call is recorded as a `SentCall`: successful ones in `sent`, failed ones in `failed`, flood
limited ones also in `rate_limited`. Sending to a chat the fake has not seen works, as if that
user had started the bot earlier (positive ids: private chats; negative: groups); use
`fail_next(..., status=400)` for "chat not found". Methods it does not know answer 404 (as
Telegram does) with a description naming the method; `add_method` plugs in more.

To check that the bot did *not* answer an update, inject a later text and wait for its echo:
PTB processes updates in order, so the earlier one has been handled by then.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import math
import re
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from html import unescape
from types import TracebackType
from typing import Any, Final, Literal, Self, TypeVar

from aiohttp import web

__all__ = [
    "DEFAULT_BOT_USERNAME",
    "DEFAULT_TOKEN",
    "ApiError",
    "FakeTelegramServer",
    "HtmlParseError",
    "SentCall",
    "UploadedFile",
    "parse_html",
]

JSONDict = dict[str, Any]
ChatType = Literal["private", "group", "supergroup"]
T = TypeVar("T")


def _words(text: str) -> list[str]:
    return text.split()


DEFAULT_TOKEN: Final = "123456789:AAFakeTelegramTokenForPolicybotTests0"
DEFAULT_BOT_USERNAME: Final = "policybot_test_bot"

MAX_MESSAGE_LENGTH: Final = 4096
MAX_CAPTION_LENGTH: Final = 1024
MAX_CALLBACK_DATA_BYTES: Final = 64

# Methods whose success puts a new message into a chat (what `messages_to` returns).
MESSAGE_METHODS: Final = frozenset({"sendMessage", "sendPhoto", "sendDocument"})
# Update types delivered when `allowed_updates` was never given or given as [] (Telegram's default).
DEFAULT_ALLOWED_UPDATES: Final = frozenset(
    _words(
        "message edited_message channel_post edited_channel_post business_connection "
        "business_message edited_business_message deleted_business_messages inline_query "
        "chosen_inline_result callback_query shipping_query pre_checkout_query "
        "purchased_paid_media poll poll_answer my_chat_member chat_join_request chat_boost "
        "removed_chat_boost"
    )
)

STATUS_DESCRIPTIONS: Final[dict[int, str]] = {
    400: "Bad Request: chat not found",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
CONFLICT_OTHER_POLL: Final = STATUS_DESCRIPTIONS[409]
CONFLICT_WEBHOOK: Final = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)

# Form values arrive as strings; these are decoded back into what the JSON body would carry.
_JSON_PARAMS: Final = frozenset(
    _words(
        "reply_markup entities caption_entities allowed_updates commands scope "
        "link_preview_options reply_parameters media message_ids"
    )
)
_INT_PARAMS: Final = frozenset(
    _words(
        "chat_id from_chat_id message_id message_thread_id reply_to_message_id offset limit "
        "user_id cache_time max_connections"
    )
)
_FLOAT_PARAMS: Final = frozenset({"timeout", "latitude", "longitude"})
_BOOL_PARAMS: Final = frozenset(
    _words(
        "disable_notification protect_content show_alert drop_pending_updates "
        "disable_web_page_preview allow_sending_without_reply allow_paid_broadcast "
        "has_spoiler disable_content_type_detection show_caption_above_media"
    )
)
_INTEGER = re.compile(r"-?\d+")
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_LEADING_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@([A-Za-z0-9_]{3,32}))?")
_MENTION = re.compile(r"(?<![\w@/])@[A-Za-z0-9_]{5,32}")


class ApiError(Exception):
    """A Bot API error answer. Raise it from an `add_method` handler to fail a call."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters
        self.rate_limited = False

    def body(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


@dataclass(frozen=True)
class UploadedFile:
    """A file the bot uploaded in a multipart request (the value of e.g. `params["document"]`)."""

    field_name: str
    filename: str | None
    content_type: str
    content: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True)
class SentCall:
    """One Bot API call made by the bot, as the server saw (and answered) it."""

    method: str
    params: dict[str, Any]
    chat_id: int | str | None
    text: str | None
    reply_markup: dict[str, Any] | None
    at: float
    status: int = 200
    description: str | None = None
    result: Any = None
    seq: int = 0

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def message_id(self) -> int | None:
        """The id of the message this call created or edited (from the answer)."""
        if isinstance(self.result, dict) and isinstance(self.result.get("message_id"), int):
            message_id: int = self.result["message_id"]
            return message_id
        value = self.params.get("message_id")
        return value if isinstance(value, int) else None

    @property
    def parse_mode(self) -> str | None:
        value = self.params.get("parse_mode")
        return value if isinstance(value, str) else None

    @property
    def shown_text(self) -> str | None:
        """The text as the user sees it: HTML tags stripped and references decoded."""
        if isinstance(self.result, dict):
            for key in ("text", "caption"):
                if isinstance(self.result.get(key), str):
                    shown: str = self.result[key]
                    return shown
        return self.text

    @property
    def buttons(self) -> list[tuple[str, str | None]]:
        """`(text, callback_data)` of every inline button, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [
            (str(button.get("text")), button.get("callback_data"))
            for row in rows
            for button in row
            if isinstance(button, dict)
        ]

    def describe(self) -> str:
        parts = [f"#{self.seq} {self.method}"]
        if self.chat_id is not None:
            parts.append(f"chat={self.chat_id}")
        if self.message_id is not None and self.method != "sendMessage":
            parts.append(f"message_id={self.message_id}")
        if self.text is not None:
            text = self.text if len(self.text) <= 120 else self.text[:117] + "..."
            parts.append(f"text={text!r}")
        if self.parse_mode:
            parts.append(f"parse_mode={self.parse_mode}")
        if self.buttons:
            parts.append(f"buttons={self.buttons}")
        parts.append("-> ok" if self.ok else f"-> {self.status} {self.description}")
        return " ".join(parts)


@dataclass
class _Fault:
    method: str
    status: int
    remaining: int
    description: str
    parameters: JSONDict | None
    chat_id: int | str | None


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes


@dataclass
class _ApiCall:
    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile]


ApiHandler = Callable[[_ApiCall], Awaitable[Any]]


class FakeTelegramServer:
    """An in-process Bot API server; use as `async with FakeTelegramServer() as server`.

    Args:
        token: the only token it accepts; any other answers 401 Unauthorized.
        username, first_name, bot_id: who `getMe` says the bot is (`bot_id` defaults to the
            number before the colon of the token, as on Telegram).
        enforce_limits: answer 429 (retry_after >= 1) to sends over `global_per_second` across all
            chats, `per_chat_per_second` in one chat or `group_per_minute` in one group; sliding
            windows over `clock`. Off by default.
        privacy_mode: group messages reach the bot only if they start with '/' (and are not
            addressed to another bot), mention the bot's @username or reply to the bot, as
            BotFather describes it (Telegram's default for bots that are not group admins).
            The others are kept in `withheld`.
        strict_html_ampersand: reject a bare `&` in HTML text (Telegram keeps it as text).
        language_code: what injected users' clients report (Simplified Chinese by default).
        clock: monotonic seconds, for `SentCall.at` and the flood limits; tests may pass a fake.
        response_delay: seconds between handling a call (it counts as sent) and answering it, as
            on a slow network: a client stopped meanwhile never learns that its message went out.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        username: str = DEFAULT_BOT_USERNAME,
        first_name: str = "Policybot (test)",
        bot_id: int | None = None,
        enforce_limits: bool = False,
        global_per_second: int = 30,
        per_chat_per_second: int = 1,
        group_per_minute: int = 20,
        privacy_mode: bool = False,
        strict_html_ampersand: bool = True,
        language_code: str = "zh-hans",
        clock: Callable[[], float] = time.monotonic,
        port: int = 0,
        response_delay: float = 0.0,
    ) -> None:
        self.token = token
        self.username = username
        self.first_name = first_name
        prefix = token.split(":", 1)[0]
        self.bot_id = bot_id if bot_id is not None else int(prefix) if prefix.isdigit() else 1
        self.enforce_limits = enforce_limits
        self.global_per_second = global_per_second
        self.per_chat_per_second = per_chat_per_second
        self.group_per_minute = group_per_minute
        self.privacy_mode = privacy_mode
        self.strict_html_ampersand = strict_html_ampersand
        self.language_code = language_code
        self._clock = clock
        self._port = port
        self.response_delay = response_delay

        # What tests look at.
        self.sent: list[SentCall] = []
        self.failed: list[SentCall] = []
        self.rate_limited: list[SentCall] = []
        self.updates: list[JSONDict] = []  # every injected update, delivered or not
        self.withheld: list[JSONDict] = []  # held back by privacy mode
        self.deliveries: Counter[int] = Counter()  # update_id -> times returned by getUpdates
        self.answered_callback_queries: dict[str, JSONDict] = {}

        self._seq = itertools.count(1)
        self._next_update_id = 100_000_001
        self._query_ids = itertools.count(1)
        self._file_numbers = itertools.count(1)
        self._pending: list[JSONDict] = []
        self._allowed_updates: frozenset[str] = DEFAULT_ALLOWED_UPDATES
        self._poll_generation = 0
        self._polls_waiting = 0
        self._changed = asyncio.Event()
        self._closing = False
        self._users: dict[int, JSONDict] = {}
        self._chats: dict[int, JSONDict] = {}
        self._last_message_id: dict[int, int] = {}
        self._messages: dict[tuple[int, int], JSONDict] = {}
        self._callback_queries: dict[str, int] = {}  # query id -> chat id of its message
        self._files: dict[str, _StoredFile] = {}
        self._blocked: set[int | str] = set()
        self._faults: list[_Fault] = []
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._webhook: JSONDict | None = None
        self._global_window: deque[float] = deque()
        self._chat_windows: dict[int | str, deque[float]] = {}
        self._group_windows: dict[int | str, deque[float]] = {}
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

        handlers: dict[str, ApiHandler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "close": self._true,
            "logOut": self._true,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendChatAction": self._send_chat_action,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "getFile": self._get_file,
        }
        # Bot API method names are case-insensitive.
        self._handlers: dict[str, tuple[str, ApiHandler]] = {
            name.lower(): (name, handler) for name, handler in handlers.items()
        }

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # handler_cancellation: a long poll whose client went away stops waiting.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self._port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self._url = f"http://{host}:{port}"

    async def close(self) -> None:
        self._closing = True
        self._notify()  # pending long polls answer [] at once
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("FakeTelegramServer is not started; use `async with`")
        return self._url

    @property
    def base_url(self) -> str:
        """For `ApplicationBuilder().base_url(...)`: PTB appends the token."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """For `ApplicationBuilder().base_file_url(...)`: file downloads."""
        return f"{self.url}/file/bot"

    @property
    def bot_user(self) -> JSONDict:
        """The bot as it appears in `from` of its messages."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    # ------------------------------------------------------------------ configuration

    def add_method(self, name: str, handler: Callable[[dict[str, Any]], Any]) -> None:
        """Answer `name` with `handler(params)`; raise `ApiError` from it to fail the call."""

        async def run(call: _ApiCall) -> Any:
            return handler(call.params)

        self._handlers[name.lower()] = (name, run)

    def add_user(
        self,
        user_id: int,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> JSONDict:
        """Register (or replace) how a user looks in updates; unknown users get defaults."""
        user: JSONDict = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name or f"用户{user_id}",
            "language_code": language_code or self.language_code,
        }
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        self._users[user_id] = user
        return copy.deepcopy(user)

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        times: int = 1,
        retry_after: int | None = None,
        chat_id: int | str | None = None,
        description: str | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` (only those to `chat_id`, if given) with an
        error in Telegram's shape. 429 always carries `parameters.retry_after` (default 1).
        Faults queue up in the order they were added.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after}"
                if status == 429
                else STATUS_DESCRIPTIONS.get(status, f"Error {status}")
            )
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        self._faults.append(_Fault(method.lower(), status, times, description, parameters, chat_id))

    def clear_faults(self) -> None:
        """Forget the failures queued by `fail_next` (an outage ends)."""
        self._faults.clear()

    def block_user(self, chat_id: int | str) -> None:
        """Every call addressed to `chat_id` answers 403 until `unblock_user`."""
        self._blocked.add(chat_id)

    def unblock_user(self, chat_id: int | str) -> None:
        self._blocked.discard(chat_id)

    # ------------------------------------------------------------------ looking at what was sent

    def calls(self, method: str | None = None, chat_id: int | str | None = None) -> list[SentCall]:
        """Successful calls, optionally of one method and/or to one chat."""
        return [
            call
            for call in self.sent
            if (method is None or call.method.lower() == method.lower())
            and (chat_id is None or call.chat_id == chat_id)
        ]

    def messages_to(self, chat_id: int | str) -> list[SentCall]:
        """Messages delivered to `chat_id` (sendMessage, sendPhoto, sendDocument), in order."""
        return [c for c in self.sent if c.method in MESSAGE_METHODS and c.chat_id == chat_id]

    def message(self, chat_id: int, message_id: int) -> JSONDict | None:
        """The current state of a message in a chat (after edits), or None if absent/deleted."""
        stored = self._messages.get((chat_id, message_id))
        return copy.deepcopy(stored) if stored is not None else None

    def my_commands(self, scope: JSONDict | None = None, language_code: str = "") -> list[JSONDict]:
        """The commands last set with setMyCommands for that scope and language."""
        return copy.deepcopy(self._commands.get((_scope_key(scope), language_code), []))

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet confirmed by a getUpdates offset."""
        return copy.deepcopy(self._pending)

    @property
    def long_polls_waiting(self) -> int:
        """How many getUpdates calls are waiting for an update right now."""
        return self._polls_waiting

    @property
    def webhook_url(self) -> str:
        return str(self._webhook["url"]) if self._webhook else ""

    async def wait_for_messages(
        self, chat_id: int | str, count: int, timeout: float = 5.0
    ) -> list[SentCall]:
        """Wait until `count` messages in all have been delivered to `chat_id` (counting from the
        server's start) and return the first `count` of them. On timeout, AssertionError listing
        everything that was sent and failed.
        """

        def ready() -> list[SentCall] | None:
            messages = self.messages_to(chat_id)
            return messages[:count] if len(messages) >= count else None

        return await self._wait_until(ready, timeout, f"{count} message(s) to chat {chat_id}")

    async def wait_for_call(
        self,
        method: str,
        timeout: float = 5.0,
        *,
        count: int = 1,
        chat_id: int | str | None = None,
    ) -> SentCall:
        """Wait for the `count`-th successful call of `method` (to `chat_id`) and return it."""

        def ready() -> SentCall | None:
            calls = self.calls(method, chat_id)
            return calls[count - 1] if len(calls) >= count else None

        where = f" to chat {chat_id}" if chat_id is not None else ""
        return await self._wait_until(ready, timeout, f"{count} successful {method} call(s){where}")

    async def wait_for_failure(
        self, method: str, timeout: float = 5.0, *, count: int = 1
    ) -> SentCall:
        """Wait for the `count`-th failed call of `method` and return it."""

        def ready() -> SentCall | None:
            failed = [c for c in self.failed if c.method.lower() == method.lower()]
            return failed[count - 1] if len(failed) >= count else None

        return await self._wait_until(ready, timeout, f"{count} failed {method} call(s)")

    async def wait_for_delivery(self, update: JSONDict, timeout: float = 5.0) -> None:
        """Wait until getUpdates has handed `update` to the bot."""
        update_id = update["update_id"]

        def ready() -> bool | None:
            return True if self.deliveries[update_id] else None

        await self._wait_until(ready, timeout, f"delivery of update {update_id}")

    def dump(self) -> str:
        """A readable account of the calls, failures and undelivered updates so far."""
        calls = sorted([*self.sent, *self.failed], key=lambda call: call.seq)
        polls = sum(1 for call in calls if call.method == "getUpdates")
        lines = [f"Calls the bot made ({polls} getUpdates not shown):"]
        lines += [f"  {c.describe()}" for c in calls if c.method != "getUpdates"] or ["  (none)"]
        if self._pending:
            lines.append("Updates not yet confirmed by the bot:")
            lines += [f"  {json.dumps(u, ensure_ascii=False)[:200]}" for u in self._pending]
        if self._faults:
            lines.append(f"Unused injected faults: {self._faults}")
        return "\n".join(lines)

    async def _wait_until(self, ready: Callable[[], T | None], timeout: float, what: str) -> T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = ready()
            if result is not None:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"Timed out after {timeout}s waiting for {what}.\n{self.dump()}"
                )
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    def _notify(self) -> None:
        """Wake everything waiting for a change (long polls, `wait_for_*`)."""
        self._changed.set()
        self._changed = asyncio.Event()

    # ------------------------------------------------------------------ injecting updates

    def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: ChatType = "private",
        reply_to_bot: bool = False,
        entities: list[JSONDict] | None = None,
    ) -> JSONDict:
        """The user sends `text`. Entities default to what Telegram detects: a `bot_command` when
        the text starts with '/', a `mention` per @username. `reply_to_bot` quotes the bot's
        latest message in that chat.
        """
        content: JSONDict = {"text": text}
        found = _detect_entities(text) if entities is None else entities
        if found:
            content["entities"] = found
        if reply_to_bot:
            chat = self._chat_for_user(user_id, chat_id, chat_type)
            content["reply_to_message"] = self._last_bot_message(chat["id"])
        return self._inject_message(user_id, chat_id, chat_type, content)

    def send_command(
        self,
        user_id: int,
        command: str,
        payload: str | None = None,
        *,
        chat_id: int | None = None,
        chat_type: ChatType = "private",
    ) -> JSONDict:
        """`/start` with an optional deep-link payload: `send_command(1, "/start", "ref42")`."""
        text = command if command.startswith("/") else f"/{command}"
        if payload:
            text = f"{text} {payload}"
        return self.send_text(user_id, text, chat_id=chat_id, chat_type=chat_type)

    def press_button(self, user_id: int, message: SentCall, callback_data: str) -> JSONDict:
        """The user presses the inline button with `callback_data` under the bot's `message`."""
        result = message.result if isinstance(message.result, dict) else {}
        chat_id = result.get("chat", {}).get("id")
        message_id = result.get("message_id")
        if not isinstance(chat_id, int) or not isinstance(message_id, int):
            raise AssertionError(f"not a message the bot sent: {message.describe()}")
        current = self._messages.get((chat_id, message_id))
        if current is None:
            raise AssertionError(f"no such message in the chat (deleted?): {message.describe()}")
        rows = (current.get("reply_markup") or {}).get("inline_keyboard") or []
        offered = [button.get("callback_data") for row in rows for button in row]
        if callback_data not in offered:
            raise AssertionError(
                f"message {message_id} in chat {chat_id} has no button with callback_data "
                f"{callback_data!r}; it offers {offered}"
            )
        return self.press_forged(user_id, message, callback_data)

    def press_forged(self, user_id: int, message: SentCall, callback_data: str) -> JSONDict:
        """A press under the bot's `message` carrying any `callback_data`: Telegram does not check
        it against the buttons, so a modified client can send what no button had."""
        result = message.result if isinstance(message.result, dict) else {}
        chat_id = result.get("chat", {}).get("id")
        current = self._messages.get((chat_id, result.get("message_id")))
        if not isinstance(chat_id, int) or current is None:
            raise AssertionError(f"not a message the bot sent: {message.describe()}")
        query_id = str(4_000_000_000_000_000_000 + next(self._query_ids))
        self._callback_queries[query_id] = chat_id
        query: JSONDict = {
            "id": query_id,
            "from": self._user(user_id),
            "message": copy.deepcopy(current),
            "chat_instance": str(-8_000_000_000_000_000_000 + chat_id),
            "data": callback_data,
        }
        return self._inject("callback_query", query)

    def send_sticker(
        self,
        user_id: int,
        *,
        emoji: str = "👍",
        chat_id: int | None = None,
        chat_type: ChatType = "private",
    ) -> JSONDict:
        stored = self._store_file(b"RIFF\x00\x00\x00\x00WEBPVP8 fake sticker", "stickers", "webp")
        sticker = {
            **_file_fields(stored),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "set_name": "FakeStickers",
        }
        return self._inject_message(user_id, chat_id, chat_type, {"sticker": sticker})

    def send_photo(
        self,
        user_id: int,
        *,
        caption: str | None = None,
        content: bytes = b"\xff\xd8\xff\xe0 fake jpeg",
        chat_id: int | None = None,
        chat_type: ChatType = "private",
    ) -> JSONDict:
        """A photo as Telegram delivers it: several sizes, smallest first."""
        small = self._store_file(content, "photos", "jpg")
        large = self._store_file(content, "photos", "jpg")
        photo = [
            {**_file_fields(small), "width": 90, "height": 68},
            {**_file_fields(large), "width": 1280, "height": 960},
        ]
        payload: JSONDict = {"photo": photo}
        if caption is not None:
            payload["caption"] = caption
        return self._inject_message(user_id, chat_id, chat_type, payload)

    def send_voice(
        self,
        user_id: int,
        *,
        duration: int = 3,
        content: bytes = b"OggS fake voice",
        chat_id: int | None = None,
        chat_type: ChatType = "private",
    ) -> JSONDict:
        stored = self._store_file(content, "voice", "oga")
        voice = {**_file_fields(stored), "duration": duration, "mime_type": "audio/ogg"}
        return self._inject_message(user_id, chat_id, chat_type, {"voice": voice})

    def send_document(
        self,
        user_id: int,
        *,
        file_name: str = "document.pdf",
        mime_type: str = "application/pdf",
        content: bytes = b"%PDF-1.4 fake",
        caption: str | None = None,
        chat_id: int | None = None,
        chat_type: ChatType = "private",
    ) -> JSONDict:
        """A document; its bytes can be downloaded by the bot with getFile + the file URL."""
        stored = self._store_file(content, "documents", file_name.rsplit(".", 1)[-1])
        document = {**_file_fields(stored), "file_name": file_name, "mime_type": mime_type}
        payload: JSONDict = {"document": document}
        if caption is not None:
            payload["caption"] = caption
        return self._inject_message(user_id, chat_id, chat_type, payload)

    def send_location(
        self,
        user_id: int,
        latitude: float = 39.0842,
        longitude: float = 117.2009,
        *,
        chat_id: int | None = None,
        chat_type: ChatType = "private",
    ) -> JSONDict:
        """A location pin (Tianjin by default)."""
        location = {"latitude": latitude, "longitude": longitude}
        return self._inject_message(user_id, chat_id, chat_type, {"location": location})

    def send_contact(
        self,
        user_id: int,
        phone_number: str,
        *,
        first_name: str | None = None,
        own: bool = True,
        chat_id: int | None = None,
        chat_type: ChatType = "private",
    ) -> JSONDict:
        """A shared contact; `own=True` is the user sharing their own number (the usual case
        for a "share my phone" request button), so `user_id` is filled in.
        """
        contact: JSONDict = {
            "phone_number": phone_number,
            "first_name": first_name or self._user(user_id)["first_name"],
        }
        if own:
            contact["user_id"] = user_id
        return self._inject_message(user_id, chat_id, chat_type, {"contact": contact})

    def edit_text(
        self,
        user_id: int,
        message_id: int,
        new_text: str,
        *,
        chat_id: int | None = None,
    ) -> JSONDict:
        """The user edits their earlier text message: an `edited_message` update."""
        key = (chat_id if chat_id is not None else user_id, message_id)
        original = self._messages.get(key)
        if original is None or original.get("from", {}).get("id") != user_id:
            raise ValueError(f"user {user_id} has no message {message_id} in chat {key[0]}")
        original["text"] = new_text
        original.pop("entities", None)
        if found := _detect_entities(new_text):
            original["entities"] = found
        original["edit_date"] = _now()
        edited = copy.deepcopy(original)
        return self._inject("edited_message", edited, privacy_check=edited)

    def _inject_message(
        self, user_id: int, chat_id: int | None, chat_type: ChatType, content: JSONDict
    ) -> JSONDict:
        chat = self._chat_for_user(user_id, chat_id, chat_type)
        message: JSONDict = {
            "message_id": self._new_message_id(chat["id"]),
            "from": self._user(user_id),
            "chat": chat,
            "date": _now(),
            **content,
        }
        self._messages[(chat["id"], message["message_id"])] = message
        return self._inject("message", copy.deepcopy(message), privacy_check=message)

    def _inject(
        self, kind: str, payload: JSONDict, *, privacy_check: JSONDict | None = None
    ) -> JSONDict:
        update = {"update_id": self._next_update_id, kind: payload}
        self._next_update_id += 1
        self.updates.append(update)
        if privacy_check is not None and not self._reaches_bot(privacy_check):
            self.withheld.append(update)
        else:
            self._pending.append(update)
            self._notify()
        return copy.deepcopy(update)

    def _reaches_bot(self, message: JSONDict) -> bool:
        if not self.privacy_mode or message["chat"]["type"] == "private":
            return True
        replied = message.get("reply_to_message") or {}
        if replied.get("from", {}).get("id") == self.bot_id:
            return True
        text = message.get("text") or message.get("caption") or ""
        command = _LEADING_COMMAND.match(text)
        if command is not None:
            return command[1] is None or command[1].lower() == self.username.lower()
        mentions = (match[0].lower() for match in _MENTION.finditer(text))
        return f"@{self.username.lower()}" in mentions

    def _user(self, user_id: int) -> JSONDict:
        if user_id not in self._users:
            self.add_user(user_id)
        return copy.deepcopy(self._users[user_id])

    def _chat_for_user(self, user_id: int, chat_id: int | None, chat_type: ChatType) -> JSONDict:
        if chat_type == "private":
            if chat_id not in (None, user_id):
                raise ValueError("a private chat's id is the user's id; leave chat_id out")
            user = self._user(user_id)
            chat = {"id": user_id, "type": "private", "first_name": user["first_name"]}
            for key in ("last_name", "username"):
                if key in user:
                    chat[key] = user[key]
            self._chats[user_id] = chat
            return copy.deepcopy(chat)
        if chat_id is None or chat_id >= 0:
            raise ValueError(f"a {chat_type} needs a negative chat_id (e.g. -1001234567890)")
        known = self._chats.setdefault(
            chat_id, {"id": chat_id, "type": chat_type, "title": f"测试群 {chat_id}"}
        )
        if known["type"] != chat_type:
            raise ValueError(f"chat {chat_id} is a {known['type']}, not a {chat_type}")
        return copy.deepcopy(known)

    def _last_bot_message(self, chat_id: int) -> JSONDict:
        ours = [
            message
            for (chat, _), message in self._messages.items()
            if chat == chat_id and message["from"]["id"] == self.bot_id
        ]
        if not ours:
            raise ValueError(f"the bot has sent nothing to chat {chat_id} to reply to")
        latest = copy.deepcopy(max(ours, key=lambda message: message["message_id"]))
        latest.pop("reply_to_message", None)
        return latest

    def _new_message_id(self, chat_id: int) -> int:
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def _store_file(self, content: bytes, folder: str, extension: str) -> _StoredFile:
        number = next(self._file_numbers)
        stored = _StoredFile(
            file_id=f"BQACAgUAAxkBAAI{number:06d}FakeFileId",
            file_unique_id=f"AgAD{number:06d}",
            file_path=f"{folder}/file_{number}.{extension}",
            content=content,
        )
        self._files[stored.file_id] = stored
        return stored

    # ------------------------------------------------------------------ HTTP

    async def _handle_api(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        requested = request.match_info["method"]
        method, handler = self._handlers.get(requested.lower(), (requested, None))
        params: dict[str, Any] = {}
        files: dict[str, UploadedFile] = {}
        try:
            if token != self.token:
                raise ApiError(401, "Unauthorized")
            await _read_params(request, params, files)
            if handler is None:
                raise ApiError(
                    404, f"Not Found: method {requested!r} is not implemented by FakeTelegramServer"
                )
            chat_id = params.get("chat_id")
            self._apply_faults(method, chat_id)
            if isinstance(chat_id, int | str) and chat_id in self._blocked:
                raise ApiError(403, STATUS_DESCRIPTIONS[403])
            limited = self.enforce_limits and method in MESSAGE_METHODS
            if limited and isinstance(chat_id, int | str):
                self._check_limits(chat_id)
            result = await handler(_ApiCall(method, params, files))
            if limited and isinstance(chat_id, int | str):
                self._count_send(chat_id)
        except ApiError as error:
            self._record(method, params, files, status=error.status, error=error)
            return web.json_response(error.body(), status=error.status)
        self._record(method, params, files, result=result)
        if self.response_delay and method in MESSAGE_METHODS:
            await asyncio.sleep(self.response_delay)
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        stored = next((f for f in self._files.values() if f.file_path == path), None)
        if request.match_info["token"] != self.token or stored is None:
            error = ApiError(404, "Not Found")
            return web.json_response(error.body(), status=404)
        return web.Response(body=stored.content, content_type="application/octet-stream")

    def _record(
        self,
        method: str,
        params: dict[str, Any],
        files: dict[str, UploadedFile],
        *,
        status: int = 200,
        result: Any = None,
        error: ApiError | None = None,
    ) -> None:
        chat_id = params.get("chat_id")
        if isinstance(result, dict) and isinstance(result.get("chat"), dict):
            chat_id = result["chat"]["id"]
        elif method == "answerCallbackQuery":
            chat_id = self._callback_queries.get(str(params.get("callback_query_id")))
        text = params.get("text", params.get("caption"))
        markup = params.get("reply_markup")
        call = SentCall(
            method=method,
            params={**params, **files},
            chat_id=chat_id if isinstance(chat_id, int | str) else None,
            text=text if isinstance(text, str) else None,
            reply_markup=markup if isinstance(markup, dict) else None,
            at=self._clock(),
            status=status,
            description=error.description if error else None,
            result=copy.deepcopy(result),
            seq=next(self._seq),
        )
        if error is None:
            self.sent.append(call)
        else:
            self.failed.append(call)
            if error.rate_limited:
                self.rate_limited.append(call)
        self._notify()

    def _apply_faults(self, method: str, chat_id: Any) -> None:
        for fault in self._faults:
            if fault.method == method.lower() and fault.chat_id in (None, chat_id):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                raise ApiError(fault.status, fault.description, fault.parameters)

    def _check_limits(self, chat_id: int | str) -> None:
        now = self._clock()
        windows = [(self._global_window, self.global_per_second, 1.0)]
        windows.append(
            (self._chat_windows.setdefault(chat_id, deque()), self.per_chat_per_second, 1.0)
        )
        if _is_group(chat_id):
            group_window = self._group_windows.setdefault(chat_id, deque())
            windows.append((group_window, self.group_per_minute, 60.0))
        wait = 0.0
        for window, limit, period in windows:
            while window and window[0] <= now - period:
                window.popleft()
            if len(window) >= limit:
                wait = max(wait, window[0] + period - now)
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            error = ApiError(
                429,
                f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            )
            error.rate_limited = True
            raise error

    def _count_send(self, chat_id: int | str) -> None:
        now = self._clock()
        self._global_window.append(now)
        self._chat_windows.setdefault(chat_id, deque()).append(now)
        if _is_group(chat_id):
            self._group_windows.setdefault(chat_id, deque()).append(now)

    # ------------------------------------------------------------------ methods

    async def _true(self, call: _ApiCall) -> bool:
        return True

    async def _get_me(self, call: _ApiCall) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, call: _ApiCall) -> list[JSONDict]:
        params = call.params
        if self._webhook is not None:
            raise ApiError(409, CONFLICT_WEBHOOK)
        offset = _int_param(params, "offset", 0)
        limit = min(max(_int_param(params, "limit", 100), 1), 100)
        timeout = params.get("timeout") or 0
        if not isinstance(timeout, int | float) or timeout < 0:
            raise ApiError(400, "Bad Request: invalid timeout specified")
        if "allowed_updates" in params:
            self._allowed_updates = _allowed_updates(params["allowed_updates"])
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # an older long poll still waiting now ends with 409
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + float(timeout)
        while True:
            if generation != self._poll_generation:
                raise ApiError(409, CONFLICT_OTHER_POLL)
            batch = [u for u in self._pending if _update_type(u) in self._allowed_updates][:limit]
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or self._closing:
                break
            changed = self._changed
            self._polls_waiting += 1
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), remaining)
            finally:
                self._polls_waiting -= 1
        for update in batch:
            self.deliveries[update["update_id"]] += 1
        return copy.deepcopy(batch)

    async def _set_webhook(self, call: _ApiCall) -> bool:
        url = call.params.get("url") or ""
        if call.params.get("drop_pending_updates"):
            self._pending.clear()
        if "allowed_updates" in call.params:
            self._allowed_updates = _allowed_updates(call.params["allowed_updates"])
        self._webhook = {"url": url, **call.params} if url else None
        self._notify()
        return True

    async def _delete_webhook(self, call: _ApiCall) -> bool:
        if call.params.get("drop_pending_updates"):
            self._pending.clear()
        self._webhook = None
        return True

    async def _get_webhook_info(self, call: _ApiCall) -> JSONDict:
        info: JSONDict = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self._webhook and "max_connections" in self._webhook:
            info["max_connections"] = self._webhook["max_connections"]
        if self._allowed_updates != DEFAULT_ALLOWED_UPDATES:
            info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    async def _set_my_commands(self, call: _ApiCall) -> bool:
        commands = call.params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, 'Bad Request: parameter "commands" is required')
        for command in commands:
            name = command.get("command") if isinstance(command, dict) else None
            described = isinstance(command, dict) and command.get("description")
            if not isinstance(name, str) or not _COMMAND_NAME.fullmatch(name) or not described:
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        key = (_scope_key(call.params.get("scope")), str(call.params.get("language_code") or ""))
        self._commands[key] = copy.deepcopy(commands)
        return True

    async def _get_my_commands(self, call: _ApiCall) -> list[JSONDict]:
        key = (_scope_key(call.params.get("scope")), str(call.params.get("language_code") or ""))
        return copy.deepcopy(self._commands.get(key, []))

    async def _delete_my_commands(self, call: _ApiCall) -> bool:
        key = (_scope_key(call.params.get("scope")), str(call.params.get("language_code") or ""))
        self._commands.pop(key, None)
        return True

    async def _send_message(self, call: _ApiCall) -> JSONDict:
        chat = self._resolve_chat(call.params)
        text = call.params.get("text")
        if not isinstance(text, str):
            raise ApiError(400, "Bad Request: message text is empty")
        content = self._format(text, call.params, "entities", MAX_MESSAGE_LENGTH)
        return self._new_bot_message(chat, call.params, content)

    async def _send_photo(self, call: _ApiCall) -> JSONDict:
        chat = self._resolve_chat(call.params)
        stored = self._input_file(call, "photo", "photos", "jpg")
        content: JSONDict = {
            "photo": [{**_file_fields(stored), "width": 1280, "height": 960}],
            **self._caption(call.params),
        }
        return self._new_bot_message(chat, call.params, content)

    async def _send_document(self, call: _ApiCall) -> JSONDict:
        chat = self._resolve_chat(call.params)
        stored = self._input_file(call, "document", "documents", "bin")
        document = {**_file_fields(stored)}
        upload = call.files.get("document")
        if upload is not None:
            if upload.filename:
                document["file_name"] = upload.filename
            document["mime_type"] = upload.content_type
        content: JSONDict = {"document": document, **self._caption(call.params)}
        return self._new_bot_message(chat, call.params, content)

    async def _get_file(self, call: _ApiCall) -> JSONDict:
        stored = self._files.get(str(call.params.get("file_id")))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {**_file_fields(stored), "file_path": stored.file_path}

    async def _edit_message_text(self, call: _ApiCall) -> JSONDict | bool:
        if "inline_message_id" in call.params:
            return True  # inline messages are not modelled
        stored = self._editable_message(call.params)
        if "text" not in stored:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text = call.params.get("text")
        if not isinstance(text, str):
            raise ApiError(400, "Bad Request: message text is empty")
        content = self._format(text, call.params, "entities", MAX_MESSAGE_LENGTH)
        markup = _inline_markup(call.params.get("reply_markup"))
        unchanged = (
            stored.get("text") == content["text"]
            and stored.get("entities") == content.get("entities")
            and stored.get("reply_markup") == markup
        )
        if unchanged:
            raise ApiError(400, NOT_MODIFIED)
        for key in ("text", "entities"):
            stored.pop(key, None)
        stored.update(content)
        _set_markup(stored, markup)  # an edit without reply_markup removes the keyboard
        stored["edit_date"] = _now()
        return copy.deepcopy(stored)

    async def _edit_message_reply_markup(self, call: _ApiCall) -> JSONDict | bool:
        if "inline_message_id" in call.params:
            return True
        stored = self._editable_message(call.params)
        markup = _inline_markup(call.params.get("reply_markup"))
        if stored.get("reply_markup") == markup:
            raise ApiError(400, NOT_MODIFIED)
        _set_markup(stored, markup)
        stored["edit_date"] = _now()
        return copy.deepcopy(stored)

    async def _delete_message(self, call: _ApiCall) -> bool:
        chat = self._resolve_chat(call.params)
        key = (chat["id"], _int_param(call.params, "message_id", 0))
        if key not in self._messages:
            raise ApiError(400, "Bad Request: message to delete not found")
        del self._messages[key]
        return True

    async def _answer_callback_query(self, call: _ApiCall) -> bool:
        query_id = str(call.params.get("callback_query_id"))
        if query_id not in self._callback_queries:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self.answered_callback_queries[query_id] = dict(call.params)
        return True

    async def _send_chat_action(self, call: _ApiCall) -> bool:
        self._resolve_chat(call.params)
        if not call.params.get("action"):
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    # ------------------------------------------------------------------ helpers for methods

    def _resolve_chat(self, params: dict[str, Any]) -> JSONDict:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        if isinstance(chat_id, str):
            for chat in self._chats.values():
                if f"@{chat.get('username')}" == chat_id and chat["type"] != "private":
                    return copy.deepcopy(chat)
            raise ApiError(400, "Bad Request: chat not found")
        if not isinstance(chat_id, int):
            raise ApiError(400, "Bad Request: chat not found")
        if chat_id not in self._chats:
            if chat_id > 0:  # a user the bot may write to
                self._chat_for_user(chat_id, None, "private")
            else:
                kind = "supergroup" if str(chat_id).startswith("-100") else "group"
                self._chats[chat_id] = {"id": chat_id, "type": kind, "title": f"测试群 {chat_id}"}
        return copy.deepcopy(self._chats[chat_id])

    def _editable_message(self, params: dict[str, Any]) -> JSONDict:
        chat = self._resolve_chat(params)
        stored = self._messages.get((chat["id"], _int_param(params, "message_id", 0)))
        if stored is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if stored["from"]["id"] != self.bot_id:
            raise ApiError(400, "Bad Request: message can't be edited")
        return stored

    def _format(
        self, text: str, params: dict[str, Any], entities_key: str, max_length: int
    ) -> JSONDict:
        """Text (or caption) and its entities as Telegram stores them, or a 400."""
        key = "text" if entities_key == "entities" else "caption"
        parse_mode = str(params.get("parse_mode") or "")
        entities = params.get(entities_key) or []
        if parse_mode.lower() == "html":
            try:
                text, entities = parse_html(text, strict_ampersand=self.strict_html_ampersand)
            except HtmlParseError as error:
                raise ApiError(400, f"Bad Request: can't parse entities: {error}") from None
        elif parse_mode and parse_mode.lower() not in ("markdown", "markdownv2"):
            raise ApiError(400, "Bad Request: unsupported parse_mode")
        if key == "text" and not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > max_length:
            what = "message is too long" if key == "text" else "message caption is too long"
            raise ApiError(400, f"Bad Request: {what}")
        content: JSONDict = {key: text}
        if entities:
            content[entities_key] = entities
        return content

    def _caption(self, params: dict[str, Any]) -> JSONDict:
        caption = params.get("caption")
        if not isinstance(caption, str) or not caption:
            return {}
        return self._format(caption, params, "caption_entities", MAX_CAPTION_LENGTH)

    def _input_file(self, call: _ApiCall, name: str, folder: str, extension: str) -> _StoredFile:
        upload = call.files.get(name)
        if upload is not None:
            if upload.filename and "." in upload.filename:
                extension = upload.filename.rsplit(".", 1)[-1]
            return self._store_file(upload.content, folder, extension)
        value = call.params.get(name)
        if isinstance(value, str) and value in self._files:
            return self._files[value]
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return self._store_file(b"", folder, extension)
        if value:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        raise ApiError(400, f"Bad Request: there is no {name} in the request")

    def _new_bot_message(
        self, chat: JSONDict, params: dict[str, Any], content: JSONDict
    ) -> JSONDict:
        message: JSONDict = {
            "message_id": 0,
            "from": self.bot_user,
            "chat": chat,
            "date": _now(),
        }
        reply_to = params.get("reply_parameters") or {}
        reply_to_id = reply_to.get("message_id") if isinstance(reply_to, dict) else None
        reply_to_id = reply_to_id or params.get("reply_to_message_id")
        if reply_to_id is not None:
            replied = self._messages.get((chat["id"], int(reply_to_id)))
            if replied is not None:
                quoted = copy.deepcopy(replied)
                quoted.pop("reply_to_message", None)
                message["reply_to_message"] = quoted
            elif not (
                params.get("allow_sending_without_reply")
                or (isinstance(reply_to, dict) and reply_to.get("allow_sending_without_reply"))
            ):
                raise ApiError(400, "Bad Request: message to be replied not found")
        message.update(content)
        _set_markup(message, _inline_markup(params.get("reply_markup")))
        message["message_id"] = self._new_message_id(chat["id"])  # only once nothing can fail
        self._messages[(chat["id"], message["message_id"])] = message
        return copy.deepcopy(message)


# ---------------------------------------------------------------------- module helpers


def _now() -> int:
    return int(time.time())


def _is_group(chat_id: int | str) -> bool:
    return isinstance(chat_id, str) or chat_id < 0


def _update_type(update: JSONDict) -> str:
    return next(key for key in update if key != "update_id")


def _scope_key(scope: Any) -> str:
    if not scope:
        return json.dumps({"type": "default"})
    return json.dumps(scope, sort_keys=True)


def _allowed_updates(value: Any) -> frozenset[str]:
    if not value:
        return DEFAULT_ALLOWED_UPDATES
    if not isinstance(value, list):
        raise ApiError(400, "Bad Request: can't parse allowed updates JSON object")
    return frozenset(str(item) for item in value)


def _int_param(params: dict[str, Any], name: str, default: int) -> int:
    value = params.get(name)
    if value is None or value == "":
        return default
    if not isinstance(value, int):
        raise ApiError(400, f"Bad Request: invalid {name} specified")
    return value


def _file_fields(stored: _StoredFile) -> JSONDict:
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.content),
    }


def _set_markup(message: JSONDict, markup: JSONDict | None) -> None:
    if markup is None:
        message.pop("reply_markup", None)
    else:
        message["reply_markup"] = markup


def _inline_markup(value: Any) -> JSONDict | None:
    """The inline keyboard as the Message will carry it (other keyboards are not echoed)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in value:
        return None
    rows = value["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise ApiError(
            400,
            'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup '
            "must be an Array of Arrays",
        )
    for button in (button for row in rows for button in row):
        if not isinstance(button, dict) or not button.get("text"):
            raise ApiError(400, 'Bad Request: can\'t find field "text"')
        if len(button) == 1:
            raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return copy.deepcopy(value)


def _coerce(name: str, value: Any) -> Any:
    """Turn a form value (always a string) into what a JSON body would have carried."""
    if not isinstance(value, str):
        return value
    if name in _JSON_PARAMS:
        try:
            return json.loads(value)
        except ValueError:
            what = "reply keyboard markup" if name == "reply_markup" else name.replace("_", " ")
            raise ApiError(400, f"Bad Request: can't parse {what} JSON object") from None
    if name in _INT_PARAMS and _INTEGER.fullmatch(value):
        return int(value)
    if name in _FLOAT_PARAMS:
        with contextlib.suppress(ValueError):
            number = float(value)
            return int(number) if number.is_integer() else number
    if name in _BOOL_PARAMS:
        return value.lower() in ("true", "1")
    return value


async def _read_params(
    request: web.Request, params: dict[str, Any], files: dict[str, UploadedFile]
) -> None:
    """Query string, then a JSON, form-encoded or multipart body, as Telegram accepts them."""
    raw: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise ApiError(400, "Bad Request: can't parse JSON encoded request") from None
            if not isinstance(body, dict):
                raise ApiError(400, "Bad Request: can't parse JSON encoded request")
            raw.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            for name, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    files[name] = UploadedFile(
                        field_name=name,
                        filename=value.filename,
                        content_type=value.content_type,
                        content=value.file.read(),
                    )
                else:
                    raw[name] = value
    params.update({name: _coerce(name, value) for name, value in raw.items()})


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _detect_entities(text: str) -> list[JSONDict]:
    """What Telegram marks in a user's text: a leading /command and @mentions."""
    entities: list[JSONDict] = []
    command_end = 0
    if command := _LEADING_COMMAND.match(text):
        command_end = command.end()
        entities.append({"type": "bot_command", "offset": 0, "length": _utf16_length(command[0])})
    for mention in _MENTION.finditer(text, command_end):
        entities.append(
            {
                "type": "mention",
                "offset": _utf16_length(text[: mention.start()]),
                "length": _utf16_length(mention[0]),
            }
        )
    return entities


# ---------------------------------------------------------------------- HTML parse mode


class HtmlParseError(ValueError):
    """Why Telegram would answer "can't parse entities" (the text after that prefix)."""


_HTML_TAGS: Final[dict[str, str]] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
}
_CHARACTER_REFERENCE = re.compile(r"&(?:#([0-9]{1,7})|#x([0-9a-fA-F]{1,6})|(lt|gt|amp|quot));?")
_NAMED_REFERENCES: Final = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ATTRIBUTE = re.compile(r"""\s+([^\s=>]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>"']+))?""")


@dataclass
class _OpenTag:
    name: str
    attributes: dict[str, str]
    utf16_start: int
    text_start: int
    language: str | None = None


def _character_reference(match: re.Match[str]) -> str | None:
    decimal, hexadecimal, named = match.groups()
    if named:
        return _NAMED_REFERENCES[named]
    code = int(decimal) if decimal else int(hexadecimal, 16)
    return chr(code) if 0 < code < 0x10FFFF and not 0xD800 <= code <= 0xDFFF else None


def parse_html(text: str, *, strict_ampersand: bool = True) -> tuple[str, list[JSONDict]]:
    """Parse Bot API HTML into (plain text, entities) the way Telegram does, or raise
    `HtmlParseError` with Telegram's wording ("Unsupported start tag "div" at byte offset 0").

    Supported: b strong i em u ins s strike del a code pre tg-spoiler span(class="tg-spoiler")
    blockquote(expandable), nested; `&lt; &gt; &amp; &quot;` and numeric references. Entity
    offsets and lengths are in UTF-16 code units. With `strict_ampersand` a bare `&` is an error;
    Telegram itself keeps it as a literal `&`.
    """
    out: list[str] = []
    out_length = 0  # characters in `out`, to slice the text of an <a> without href
    utf16 = 0
    stack: list[_OpenTag] = []
    entities: list[JSONDict] = []

    def at(position: int) -> str:
        return f"byte offset {len(text[:position].encode())}"

    def emit(piece: str) -> None:
        nonlocal out_length, utf16
        out.append(piece)
        out_length += len(piece)
        utf16 += _utf16_length(piece)

    i, size = 0, len(text)
    while i < size:
        char = text[i]
        if char == "&":
            reference = _CHARACTER_REFERENCE.match(text, i)
            decoded = _character_reference(reference) if reference else None
            if reference is None or decoded is None:
                if strict_ampersand:
                    raise HtmlParseError(f'Unescaped "&" at {at(i)}: write it as &amp;')
                emit("&")
                i += 1
            else:
                emit(decoded)
                i = reference.end()
            continue
        if char != "<":
            emit(char)
            i += 1
            continue
        if text.startswith("</", i):
            end = text.find(">", i)
            if end < 0:
                raise HtmlParseError(f"Unclosed end tag at {at(i)}")
            name = text[i + 2 : end].strip().lower()
            if not stack:
                raise HtmlParseError(f"Unexpected end tag at {at(i)}")
            tag = stack.pop()
            if name and name != tag.name:
                raise HtmlParseError(
                    f'Unmatched end tag at {at(i)}, expected "</{tag.name}>", found "</{name}>"'
                )
            parent = stack[-1] if stack else None
            entity = _close_tag(tag, utf16, "".join(out)[tag.text_start :], parent)
            if entity is not None:
                entities.append(entity)
            i = end + 1
            continue
        j = i + 1
        while j < size and not text[j].isspace() and text[j] != ">":
            j += 1
        name = text[i + 1 : j].lower()
        if j >= size:
            raise HtmlParseError(f"Unclosed start tag at {at(i)}")
        if name not in _HTML_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{name}" at {at(i)}')
        attributes: dict[str, str] = {}
        while text[j] != ">":
            attribute = _ATTRIBUTE.match(text, j)
            if attribute is None:
                rest = text[j:].lstrip()
                if not rest:
                    raise HtmlParseError(f"Unclosed start tag at {at(i)}")
                if rest.startswith(">"):
                    j = size - len(rest)
                    continue
                raise HtmlParseError(
                    f'Expected equal sign in declaration of attribute of the tag "{name}" '
                    f"at {at(i)}"
                )
            value = attribute[2] or ""
            if value[:1] in ("'", '"'):
                value = value[1:-1]
            attributes[attribute[1].lower()] = unescape(value)
            j = attribute.end()
            if j >= size:
                raise HtmlParseError(f"Unclosed start tag at {at(i)}")
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at {at(i)}')
        stack.append(_OpenTag(name, attributes, utf16, out_length))
        i = j + 1
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
    return "".join(out), entities


def _close_tag(
    tag: _OpenTag, utf16_end: int, inner_text: str, parent: _OpenTag | None
) -> JSONDict | None:
    kind = _HTML_TAGS[tag.name]
    language = tag.attributes.get("class", "")
    pre_language = parent is not None and parent.name == "pre" and language.startswith("language-")
    if tag.name == "code" and parent is not None and pre_language:
        parent.language = language.removeprefix("language-")
        return None  # <pre><code class="language-x"> is one pre entity with a language
    length = utf16_end - tag.utf16_start
    if length == 0:
        return None
    entity: JSONDict = {"type": kind, "offset": tag.utf16_start, "length": length}
    if tag.name == "a":
        entity["url"] = tag.attributes.get("href") or inner_text
    elif tag.name == "pre" and tag.language:
        entity["language"] = tag.language
    elif tag.name == "blockquote" and "expandable" in tag.attributes:
        entity["type"] = "expandable_blockquote"
    return entity
