"""The Telegram channel: python-telegram-bot updates in, the dialogue's replies out.

Input half: an Update becomes the neutral `IncomingMessage` (user key = HMAC of the Telegram user
id); no Telegram type crosses into `handlers/`. Output half: a `Reply` becomes HTML-escaped
messages of at most 4,096 characters with an inline keyboard. Sending retries 429s after
`retry_after` and network errors / 5xx with backoff, so a hiccup delays a reply but doesn't lose it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import html
import json
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from telegram import (
    BotCommand,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
    User,
)
from telegram.constants import ChatType, MessageLimit, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackContext,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)

from bot.events import log_event
from bot.request_body import read_capped_body
from bot.settings import TelegramSettings
from bot.user_keys import UserKeyHasher
from handlers import texts
from handlers.cases import StaffMember
from handlers.casework import CASE_PAYLOAD_PREFIX, Casework
from handlers.dialogue import Dialogue
from handlers.messages import IncomingMessage, MessageKind, Reply

if TYPE_CHECKING:  # broadcasts use this adapter's helpers; the type alone is needed here
    from bot.broadcasts import ChatBroadcasts

CHANNEL = "telegram"
MAX_MESSAGE_CHARS: int = MessageLimit.MAX_TEXT_LENGTH
MAX_CALLBACK_BYTES = 64
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "开始：能问什么"),
    ("topics", "按类别看政策"),
    ("legalaid", "法律援助：工会免费帮忙"),
    ("mycase", "我的法律援助申请"),
    ("subscribe", "订阅招聘会等活动消息"),
    ("unsubscribe", "退订活动消息"),
    ("help", "怎么用"),
    ("forget", "删除我的个人信息"),
)
SEND_ATTEMPTS = 5
HOUSEKEEPING_SECONDS = 6 * 3600
FIRST_BACKOFF_SECONDS = 0.5
# Labels this short sit two to a row; longer ones get a row each so they stay readable on a phone.
SHORT_LABEL_CHARS = 8

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class TelegramDeps:
    """What the callbacks need, handed over through bot_data instead of globals."""

    dialogue: Dialogue
    user_keys: UserKeyHasher
    # Periodic upkeep while the bot runs (the retention purge); None in tests.
    housekeeping: Callable[[], Awaitable[None]] | None = None
    # Admins' /broadcast; None turns the command off.
    broadcasts: ChatBroadcasts | None = None
    # Legal-aid staff: their actions, and the group where case cards arrive.
    casework: Casework | None = None
    staff_chat_id: int | None = None
    # Runs the outbox sender for Telegram once the bot is up (given the application's bot).
    outbox: Callable[[ExtBot[Any]], Coroutine[Any, Any, None]] | None = None


class BotContext(CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """python-telegram-bot's context with our dependencies behind a typed property."""

    @property
    def deps(self) -> TelegramDeps:
        deps = self.bot_data["deps"]
        assert isinstance(deps, TelegramDeps)
        return deps


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across chats, in order within one chat (a conversation's steps must not race)."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[object]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock = self._locks.setdefault(chat.id, asyncio.Lock())
        try:
            async with lock:
                await coroutine
        finally:
            if not lock.locked() and not getattr(lock, "_waiters", None):
                self._locks.pop(chat.id, None)

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free."""


def is_addressed_to_bot(message: Message, bot_username: str, bot_id: int) -> bool:
    """In a group the bot speaks only when mentioned or replied to; in a private chat, always."""
    if message.chat.type == ChatType.PRIVATE:
        return True
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return True
    text = message.text or message.caption or ""
    return bool(bot_username) and f"@{bot_username}".lower() in text.lower()


def to_incoming(update: Update, user_key: str, bot_username: str) -> IncomingMessage | None:
    """The neutral message for an update, or None when it is not for the bot."""
    language = update.effective_user.language_code if update.effective_user else None
    address = str(update.effective_chat.id) if update.effective_chat else None
    if update.callback_query is not None:
        data = update.callback_query.data or ""
        return IncomingMessage.pressed(user_key, CHANNEL, data, language=language, address=address)
    message = update.effective_message
    if message is None:
        return None
    if message.text is not None:
        text = message.text
        if bot_username:
            text = text.replace(f"@{bot_username}", " ").strip()
        return IncomingMessage.typed(user_key, CHANNEL, text, language=language, address=address)
    contact = message.contact
    sender = update.effective_user
    if contact is not None and sender is not None and contact.user_id == sender.id:
        # Only the person's own number (the share-my-number button), never a forwarded card.
        return IncomingMessage(
            user_key,
            CHANNEL,
            MessageKind.CONTACT,
            contact.phone_number,
            language=language,
            address=address,
        )
    return IncomingMessage(
        user_key, CHANNEL, MessageKind.UNSUPPORTED, language=language, address=address
    )


def split_text(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Pieces of at most `limit` characters, cut at line ends where possible."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut <= 0:
            cut = limit
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    pieces.append(text)
    return pieces


def keyboard_for(reply: Reply) -> InlineKeyboardMarkup | None:
    rows: list[list[InlineKeyboardButton]] = []
    for choice in reply.choices:
        if len(choice.payload.encode()) > MAX_CALLBACK_BYTES:
            continue  # Telegram would refuse the whole message; a missing button is the lesser harm
        button = InlineKeyboardButton(choice.label, callback_data=choice.payload)
        last = rows[-1] if rows else None
        if (
            last is not None
            and len(last) == 1
            and len(choice.label) <= SHORT_LABEL_CHARS
            and len(last[0].text) <= SHORT_LABEL_CHARS
        ):
            last.append(button)
        else:
            rows.append([button])
    return InlineKeyboardMarkup(rows) if rows else None


Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


def phone_keyboard(reply: Reply) -> ReplyKeyboardMarkup:
    """Telegram's share-my-number button; the reply's choices become typed-word buttons beside it
    (a message carries one keyboard, and the flow understands the labels as words)."""
    rows = [[KeyboardButton(texts.PHONE_BUTTON, request_contact=True)]]
    rows += [[KeyboardButton(choice.label)] for choice in reply.choices]
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)


def markup_for(reply: Reply) -> Markup | None:
    if reply.asks_phone:
        return phone_keyboard(reply)
    if reply.hides_keyboard:
        return ReplyKeyboardRemove()
    return keyboard_for(reply)


def render(reply: Reply) -> list[tuple[str, Markup | None]]:
    """HTML-escaped messages for one reply; the keyboard rides on the last one."""
    # Split the plain text, then escape: Telegram counts length after parsing the HTML, and
    # splitting escaped text could cut an entity such as &amp; in two.
    pieces = split_text(reply.text.strip() or "…")
    rendered: list[tuple[str, Markup | None]] = [
        (html.escape(piece, quote=False), None) for piece in pieces
    ]
    rendered[-1] = (rendered[-1][0], markup_for(reply))
    return rendered


def retry_after_seconds(error: RetryAfter) -> float:
    """Telegram's wait in seconds (python-telegram-bot gives an int or, newer, a timedelta)."""
    wait = error.retry_after
    return wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait)


async def send_with_retry(call: Callable[[], Awaitable[T]], *, attempts: int = SEND_ATTEMPTS) -> T:
    """Retry what may succeed later (429 after retry_after, network errors, 5xx); not 400 or 403."""
    delay = FIRST_BACKOFF_SECONDS
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except RetryAfter as error:
            if attempt == attempts:
                raise
            await asyncio.sleep(retry_after_seconds(error))
        except (BadRequest, Forbidden):
            raise
        except NetworkError:
            if attempt == attempts:
                raise
            await asyncio.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


async def deliver(bot: ExtBot[Any], chat_id: int, replies: Sequence[Reply]) -> int:
    """Send every reply in order; returns the number of Telegram messages sent."""
    sent = 0
    for reply in replies:
        for text, keyboard in render(reply):
            await send_with_retry(
                partial(
                    bot.send_message,
                    chat_id,
                    text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=keyboard,
                    disable_web_page_preview=True,
                )
            )
            sent += 1
    return sent


async def on_update(update: Update, context: BotContext) -> None:
    """Any message, edited message or button press: through the dialogue and back."""
    started = time.perf_counter()
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or user.is_bot:
        return
    if update.callback_query is not None:
        await send_with_retry(update.callback_query.answer)
    else:
        message = update.effective_message
        if message is None or not is_addressed_to_bot(
            message, context.bot.username, context.bot.id
        ):
            return
    deps = context.deps
    if await handle_staff_text(update, context):
        return
    incoming = to_incoming(update, deps.user_keys.key_for(CHANNEL, user.id), context.bot.username)
    if incoming is None:
        return
    turn = await deps.dialogue.handle(incoming)
    sent = await deliver(context.bot, chat.id, turn.replies)
    question = turn.question
    log_event(
        "telegram_turn",
        user=incoming.user_key[:12],
        kind=incoming.kind.value,
        clause=question.clause if question else None,
        score=question.score if question else None,
        fallback=question.fallback if question else None,
        handoff=question.handoff if question else None,
        messages=sent,
        latency_ms=round((time.perf_counter() - started) * 1000, 1),
    )


def staff_member(user: User) -> StaffMember:
    return StaffMember(f"{CHANNEL}:{user.id}", user.full_name)


async def on_case_button(update: Update, context: BotContext) -> None:
    """接单 / 结案 / 备注 on a case card: only configured staff may act."""
    query = update.callback_query
    casework = context.deps.casework
    if query is None or query.from_user is None:
        return
    if casework is None:
        await send_with_retry(query.answer)
        return
    staff = staff_member(query.from_user)
    answer = await casework.press(staff, query.data or "")
    await send_with_retry(
        partial(query.answer, answer.acknowledgement[:200], show_alert=answer.refused)
    )
    chat = update.effective_chat
    if answer.prompt is not None and chat is not None:
        # Mention the staff member so the selective ForceReply opens their reply field only.
        mention = f'<a href="tg://user?id={query.from_user.id}">{html.escape(staff.name)}</a>'
        text = html.escape(answer.prompt.text, quote=False).replace(
            html.escape(staff.name, quote=False), mention, 1
        )
        await send_with_retry(
            partial(
                context.bot.send_message,
                chat.id,
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=ForceReply(selective=True),
            )
        )
    log_event("legal_aid_staff_press", refused=answer.refused, prompt=answer.prompt is not None)


async def handle_staff_text(update: Update, context: BotContext) -> bool:
    """A staff member's reply (note or outcome) in the staff chat; False if it isn't one."""
    deps = context.deps
    message = update.message
    user = update.effective_user
    if (
        deps.casework is None
        or message is None
        or user is None
        or message.chat.id != deps.staff_chat_id
        or message.text is None
        or message.reply_to_message is None
        or message.reply_to_message.from_user is None
        or message.reply_to_message.from_user.id != context.bot.id
    ):
        return False
    staff = staff_member(user)
    answer = await deps.casework.write(staff, message.text)
    if answer is None:
        return False
    await send_with_retry(
        partial(context.bot.send_message, message.chat.id, answer.acknowledgement)
    )
    return True


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure by type only (no message text, no names); the bot keeps running."""
    error = context.error
    log_event(
        "telegram_error",
        logging.ERROR,
        error=type(error).__name__,
        detail=str(error)[:200] if isinstance(error, TelegramError) else None,
        update_id=update.update_id if isinstance(update, Update) else None,
    )


async def on_broadcast_command(update: Update, context: BotContext) -> None:
    """`/broadcast CODE` with the message on the next lines, from an admin; others get the dialogue."""
    broadcasts = context.deps.broadcasts
    user = update.effective_user
    message = update.effective_message
    if broadcasts is None or user is None or message is None or not broadcasts.is_admin(user.id):
        await on_update(update, context)
        return
    first_line, _, text = (message.text or "").partition("\n")
    words = first_line.split()
    code = words[1] if len(words) > 1 else ""
    answer = await broadcasts.start(code, text.strip(), context.bot)
    await send_with_retry(lambda: message.reply_text(answer))
    log_event("telegram_broadcast_command", accepted=answer.startswith(("开始", "继续")))


# python-telegram-bot's generics (bot, context, data stores, job queue) spelled once.
TelegramApplication = Application[Any, BotContext, Any, Any, Any, Any]


async def register_commands(application: TelegramApplication) -> None:
    """The command menu Telegram shows beside the text field."""
    await send_with_retry(
        lambda: application.bot.set_my_commands([BotCommand(name, text) for name, text in COMMANDS])
    )
    log_event("telegram_ready", username=application.bot.username)


async def keep_house(housekeeping: Callable[[], Awaitable[None]]) -> None:
    """Run the upkeep now and every HOUSEKEEPING_SECONDS until the bot stops."""
    while True:
        try:
            await housekeeping()
        except Exception as error:  # upkeep failing must not stop answering workers
            log_event("housekeeping_failed", logging.ERROR, error=type(error).__name__)
        await asyncio.sleep(HOUSEKEEPING_SECONDS)


async def on_start(application: TelegramApplication) -> None:
    """After start-up: the command menu, then the periodic upkeep."""
    await register_commands(application)
    deps = application.bot_data["deps"]
    if isinstance(deps, TelegramDeps) and deps.housekeeping is not None:
        # Our own task (post_init runs before the application counts as running); on_stop ends it.
        application.bot_data["housekeeping"] = asyncio.create_task(keep_house(deps.housekeeping))
    if isinstance(deps, TelegramDeps) and deps.outbox is not None:
        application.bot_data["outbox"] = asyncio.create_task(deps.outbox(application.bot))


async def on_stop(application: TelegramApplication) -> None:
    """Stop the upkeep and log the shutdown."""
    for name in ("housekeeping", "outbox"):
        task = application.bot_data.pop(name, None)
        if isinstance(task, asyncio.Task):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    log_event("telegram_stopped", username=application.bot.username)


def build_application(
    *,
    token: str,
    base_url: str,
    base_file_url: str,
    deps: TelegramDeps,
    connect_timeout: float,
    read_timeout: float,
    max_concurrent_updates: int = 64,
    overall_per_second: float = 30,
) -> TelegramApplication:
    """The python-telegram-bot Application with our callbacks; `main` only runs it."""
    context_types = ContextTypes(context=BotContext)
    application: TelegramApplication = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .base_file_url(base_file_url)
        .context_types(context_types)
        .rate_limiter(AIORateLimiter(overall_max_rate=overall_per_second, max_retries=3))
        .concurrent_updates(PerChatUpdateProcessor(max_concurrent_updates))
        .connect_timeout(connect_timeout)
        .read_timeout(read_timeout)
        .get_updates_read_timeout(read_timeout + 30)
        .post_init(on_start)
        .post_stop(on_stop)
        .build()
    )
    application.bot_data["deps"] = deps
    application.add_handler(CallbackQueryHandler(on_case_button, pattern=f"^{CASE_PAYLOAD_PREFIX}"))
    application.add_handler(CallbackQueryHandler(on_update))
    application.add_handler(CommandHandler("broadcast", on_broadcast_command))
    application.add_handler(
        MessageHandler(filters.UpdateType.MESSAGES | filters.UpdateType.EDITED_MESSAGE, on_update)
    )
    application.add_error_handler(on_error)
    return application


def run_telegram(
    settings: TelegramSettings,
    deps: TelegramDeps,
    *,
    token: str,
    webhook_url: str | None,
    listen: str,
    port: int,
) -> None:
    """Long polling, or a webhook whose every request must carry the secret token."""
    application = build_application(
        token=token,
        base_url=settings.base_url,
        base_file_url=settings.base_file_url,
        deps=deps,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
    )
    if webhook_url is None:
        application.run_polling(
            timeout=int(settings.poll_timeout), allowed_updates=Update.ALL_TYPES, close_loop=False
        )
        return
    secret = settings.webhook_secret
    assert secret is not None  # checked by the CLI before anything starts
    application.run_webhook(
        **webhook_options(webhook_url, secret.get_secret_value(), listen=listen, port=port),
        close_loop=False,
    )


def webhook_options(url: str, secret: str, *, listen: str, port: int) -> dict[str, Any]:
    """Where PTB's webhook server listens; it refuses (403) requests without the secret header."""
    return {
        "listen": listen,
        "port": port,
        "url_path": urlsplit(url).path.lstrip("/"),
        "webhook_url": url,
        "secret_token": secret,
        "allowed_updates": Update.ALL_TYPES,
    }


# Telegram sends the webhook secret in this header; a request without it is not from Telegram.
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1024 * 1024


def webhook_endpoint(
    application: TelegramApplication, secret: str
) -> Callable[[Request], Awaitable[Response]]:
    """The route for the shared server: check the secret, queue the decoded update, answer 200."""

    async def receive_update(request: Request) -> Response:
        if not hmac.compare_digest(request.headers.get(SECRET_HEADER, ""), secret):
            log_event("telegram_webhook_refused", logging.WARNING)
            return Response(status_code=403)
        body = await read_capped_body(request, MAX_UPDATE_BYTES)
        try:
            data = json.loads(body) if body is not None else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return Response(status_code=400)
        await application.update_queue.put(Update.de_json(data, application.bot))
        return Response()

    return receive_update


async def start_webhook_application(
    application: TelegramApplication, url: str, secret: str
) -> None:
    """Inside the shared server's event loop: start processing the queue, then set the webhook."""
    await application.initialize()
    await on_start(application)
    await application.start()
    await send_with_retry(
        lambda: application.bot.set_webhook(
            url, secret_token=secret, allowed_updates=Update.ALL_TYPES
        )
    )


async def stop_webhook_application(application: TelegramApplication) -> None:
    await application.stop()
    await on_stop(application)
    await application.shutdown()
