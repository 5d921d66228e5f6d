"""The fake Telegram server, driven by the real python-telegram-bot `Application` over HTTP.

Besides checking the fake, these tests pin down how python-telegram-bot 22 reacts to Telegram's
answers, which the bot's Telegram adapter has to handle:

* Every Bot API error reaches the caller (the handler, hence the application's error handlers)
  as an exception chosen from the HTTP status and `parameters`: any answer carrying
  `parameters.retry_after` -> `RetryAfter` (`migrate_to_chat_id` -> `ChatMigrated`);
  400 -> `BadRequest`; 403 -> `Forbidden`; 401/404 -> `InvalidToken`; 409 -> `Conflict`;
  anything else (500, 502, ...) and transport failures -> `NetworkError` (`TimedOut` for
  timeouts). `BadRequest` and `TimedOut` subclass `NetworkError`, so catch `BadRequest` first.
  When a "Bad Request: " prefix is stripped, the rest goes through `str.capitalize()`
  ("Can't parse entities: unsupported start tag ..."), so match messages case-insensitively.
* Without a rate limiter PTB retries nothing a handler sends. `AIORateLimiter(max_retries=n)`
  retries only `RetryAfter`: it sleeps `retry_after + 0.1` s, holding back every other request
  meanwhile, then sends again. It does not retry `NetworkError` (500/502) or `TimedOut`: the
  adapter has to retry those itself (sending twice is possible if the first attempt did arrive).
* The `Updater`'s polling loop does retry its own getUpdates failures (after 1 s, growing x1.5
  up to 30 s; `retry_after + 0.5` s after a 429; at once after a timeout); they go to
  `error_callback`/the log, not to the application's error handlers. On stop it calls
  getUpdates once more with the next offset, so handled updates are not fetched again.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.ext.filters import BaseFilter

from tests.fake_telegram import (
    DEFAULT_BOT_USERNAME,
    FakeTelegramServer,
    HtmlParseError,
    SentCall,
    UploadedFile,
    parse_html,
)

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
JSONDict = dict[str, Any]

USER = 4242
OTHER_USER = 5151
GROUP = -1001234567890


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as fake:
        yield fake


# ---------------------------------------------------------------------- a tiny bot


class ErrorLog:
    """Collects what reaches the application's error handler."""

    def __init__(self) -> None:
        self.errors: list[BaseException] = []
        self._arrived = asyncio.Event()

    async def handle(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert context.error is not None
        self.errors.append(context.error)
        self._arrived.set()

    async def wait_for_error(self, timeout: float = 5.0) -> BaseException:
        await asyncio.wait_for(self._arrived.wait(), timeout)
        return self.errors[0]


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.text is not None
    await message.reply_text(message.text)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("是", callback_data="yes"),
                InlineKeyboardButton("否", callback_data="no"),
            ]
        ]
    )
    payload = " ".join(context.args or [])
    await message.reply_text(f"欢迎{payload}！需要帮助吗？", reply_markup=keyboard)


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer(f"收到：{query.data}")
    await query.edit_message_text(f"你选择了：{query.data}")


def build_app(
    server: FakeTelegramServer,
    *,
    errors: ErrorLog | None = None,
    rate_limiter: AIORateLimiter | None = None,
    text_handler: Callable[[Update, ContextTypes.DEFAULT_TYPE], Any] = echo,
) -> AnyApplication:
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .token(server.token)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
    )
    if rate_limiter is not None:
        builder = builder.rate_limiter(rate_limiter)
    app: AnyApplication = builder.build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, text_handler))
    app.add_handler(CallbackQueryHandler(button))
    if errors is not None:
        app.add_error_handler(errors.handle)
    return app


@asynccontextmanager
async def running(app: AnyApplication) -> AsyncIterator[AnyApplication]:
    """The application polling the fake, stopped cleanly (PTB confirms fetched updates on stop)."""
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


async def api(
    server: FakeTelegramServer,
    method: str,
    *,
    json: JSONDict | None = None,
    data: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    token: str | None = None,
    http_method: str = "POST",
) -> tuple[int, JSONDict]:
    """A raw Bot API call, the way any HTTP client would make it."""
    url = f"{server.url}/bot{token or server.token}/{method}"
    async with (
        aiohttp.ClientSession() as session,
        session.request(http_method, url, json=json, data=data, params=query) as response,
    ):
        body: JSONDict = await response.json()
        return response.status, body


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


# ---------------------------------------------------------------------- identity and auth


async def test_get_me_reports_the_configured_bot(server: FakeTelegramServer) -> None:
    async with build_app(server) as app:
        assert app.bot.username == DEFAULT_BOT_USERNAME
        assert app.bot.id == 123456789  # the number before the colon of the token
    assert server.sent[0].method == "getMe"

    other = FakeTelegramServer(username="another_test_bot", bot_id=77)
    async with other, Bot(other.token, base_url=other.base_url) as bot:
        assert (bot.username, bot.id) == ("another_test_bot", 77)


async def test_a_wrong_token_is_unauthorized(server: FakeTelegramServer) -> None:
    status, body = await api(server, "getMe", token="1:wrong")
    assert status == 401
    assert body == {"ok": False, "error_code": 401, "description": "Unauthorized"}

    with pytest.raises(InvalidToken):
        async with Bot("1:wrong", base_url=server.base_url):
            pass
    assert [call.status for call in server.failed] == [401, 401]
    assert server.sent == []


async def test_an_unknown_method_is_not_found_and_add_method_plugs_it_in(
    server: FakeTelegramServer,
) -> None:
    status, body = await api(server, "getChatMenuButton", json={"chat_id": USER})
    assert status == 404
    assert "getChatMenuButton" in body["description"]

    server.add_method("getChatMenuButton", lambda params: {"type": "commands"})
    status, body = await api(server, "getchatmenubutton", json={"chat_id": USER})
    assert (status, body["result"]) == (200, {"type": "commands"})  # names are case-insensitive
    assert server.calls("getChatMenuButton")[0].params == {"chat_id": USER}


# ---------------------------------------------------------------------- the bot end to end


async def test_a_text_is_echoed(server: FakeTelegramServer) -> None:
    async with running(build_app(server)):
        update = server.send_text(USER, "农民工工资被拖欠怎么办？")
        [reply] = await server.wait_for_messages(USER, 1)

    assert reply.text == "农民工工资被拖欠怎么办？"
    assert reply.result["from"]["username"] == DEFAULT_BOT_USERNAME
    assert reply.result["chat"] == {"id": USER, "type": "private", "first_name": f"用户{USER}"}
    # Message ids are per chat and shared by both sides of the conversation.
    assert reply.message_id == update["message"]["message_id"] + 1
    assert server.deliveries[update["update_id"]] == 1


async def test_a_button_press_is_answered_and_the_message_edited(
    server: FakeTelegramServer,
) -> None:
    async with running(build_app(server)):
        server.send_command(USER, "/start", payload="工会")
        [menu] = await server.wait_for_messages(USER, 1)
        assert menu.text == "欢迎工会！需要帮助吗？"
        assert menu.buttons == [("是", "yes"), ("否", "no")]
        assert menu.result["reply_markup"] == menu.reply_markup  # inline keyboards are echoed

        press = server.press_button(USER, menu, "yes")
        answer = await server.wait_for_call("answerCallbackQuery")
        edit = await server.wait_for_call("editMessageText")

    query_id = press["callback_query"]["id"]
    assert answer.params == {"callback_query_id": query_id, "text": "收到：yes"}
    assert answer.chat_id == USER
    assert server.answered_callback_queries[query_id]["text"] == "收到：yes"
    assert (edit.chat_id, edit.message_id) == (USER, menu.message_id)
    current = server.message(USER, menu.message_id or 0)
    assert current is not None
    assert current["text"] == "你选择了：yes"
    assert "reply_markup" not in current  # editing without reply_markup drops the keyboard
    with pytest.raises(AssertionError, match="no button"):
        server.press_button(USER, menu, "yes")


async def test_restarted_polling_does_not_get_confirmed_updates_again(
    server: FakeTelegramServer,
) -> None:
    first = server.send_text(USER, "第一条")
    async with running(build_app(server)):
        await server.wait_for_messages(USER, 1)
    # On stop PTB calls getUpdates once more with offset = last id + 1, which confirms it.
    assert server.pending_updates == []

    second = server.send_text(USER, "第二条")
    async with running(build_app(server)):
        await server.wait_for_messages(USER, 2)

    assert [m.text for m in server.messages_to(USER)] == ["第一条", "第二条"]
    assert server.deliveries == {first["update_id"]: 1, second["update_id"]: 1}


async def test_wait_for_messages_times_out_with_a_dump_of_what_was_sent(
    server: FakeTelegramServer,
) -> None:
    async with running(build_app(server)):
        server.send_text(USER, "你好")
        await server.wait_for_messages(USER, 1)
        with pytest.raises(AssertionError) as caught:
            await server.wait_for_messages(USER, 2, timeout=0.05)
    assert "2 message(s) to chat 4242" in str(caught.value)
    assert f"sendMessage chat={USER} text='你好'" in str(caught.value)


# ---------------------------------------------------------------------- failures and PTB


# PTB's own RetryAfter constructor reads the deprecated int-valued `retry_after`.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_a_429_reaches_the_handler_as_retry_after_without_a_rate_limiter(
    server: FakeTelegramServer,
) -> None:
    errors = ErrorLog()
    server.fail_next("sendMessage", status=429, retry_after=1)
    async with running(build_app(server, errors=errors)):
        server.send_text(USER, "第一条")
        error = await errors.wait_for_error()
        server.send_text(USER, "第二条")
        [delivered] = await server.wait_for_messages(USER, 1)

    assert isinstance(error, RetryAfter)
    assert "Retry in 1" in error.message
    assert delivered.text == "第二条"  # the first one was lost: PTB did not retry it
    [failed] = server.failed
    assert (failed.method, failed.status, failed.text) == ("sendMessage", 429, "第一条")
    assert failed.description == "Too Many Requests: retry after 1"


# PTB's own RetryAfter constructor reads the deprecated int-valued `retry_after`.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_aio_rate_limiter_retries_a_429_and_the_message_arrives_once(
    server: FakeTelegramServer,
) -> None:
    errors = ErrorLog()
    server.fail_next("sendMessage", status=429, retry_after=1)
    app = build_app(server, errors=errors, rate_limiter=AIORateLimiter(max_retries=3))
    async with running(app):
        server.send_text(USER, "请重试")
        await server.wait_for_messages(USER, 1)

    # Checked after the application stopped, so a duplicate would have been recorded by now.
    [delivered] = server.messages_to(USER)
    [failed] = server.failed
    assert delivered.text == failed.text == "请重试"
    assert delivered.at - failed.at >= 1.0  # it waited retry_after before sending again
    assert errors.errors == []


@pytest.mark.parametrize("with_rate_limiter", [False, True], ids=["plain", "aio-rate-limiter"])
async def test_a_500_reaches_the_handler_as_network_error(
    server: FakeTelegramServer, with_rate_limiter: bool
) -> None:
    """A 5xx is not retried by PTB, with or without AIORateLimiter (it retries only 429s):
    the handler gets `telegram.error.NetworkError` carrying Telegram's description and the
    message is not delivered. The adapter must retry it (and accept a possible duplicate).
    """
    errors = ErrorLog()
    limiter = AIORateLimiter(max_retries=3) if with_rate_limiter else None
    server.fail_next("sendMessage", status=500)
    async with running(build_app(server, errors=errors, rate_limiter=limiter)):
        server.send_text(USER, "丢失")
        error = await errors.wait_for_error()
        server.send_text(USER, "送达")
        await server.wait_for_messages(USER, 1)

    assert type(error) is NetworkError
    assert error.message == "Internal Server Error"
    assert [m.text for m in server.messages_to(USER)] == ["送达"]
    assert [(c.status, c.text) for c in server.failed] == [(500, "丢失")]


async def test_polling_survives_a_bad_gateway_from_get_updates(
    server: FakeTelegramServer,
) -> None:
    errors = ErrorLog()
    server.fail_next("getUpdates", status=502)
    async with running(build_app(server, errors=errors)):
        server.send_text(USER, "还在吗")
        await server.wait_for_messages(USER, 1)

    assert [(c.method, c.status) for c in server.failed] == [("getUpdates", 502)]
    assert errors.errors == []  # the Updater logged and retried it; handlers never saw it


async def test_a_blocked_user_gets_forbidden_until_unblocked(server: FakeTelegramServer) -> None:
    errors = ErrorLog()
    server.block_user(USER)
    async with running(build_app(server, errors=errors)):
        server.send_text(USER, "在吗")
        error = await errors.wait_for_error()
        server.unblock_user(USER)
        server.send_text(USER, "又来了")
        await server.wait_for_messages(USER, 1)

    assert isinstance(error, Forbidden)
    assert error.message == "Forbidden: bot was blocked by the user"
    assert [m.text for m in server.messages_to(USER)] == ["又来了"]


async def test_fail_next_can_target_one_chat_and_queue_several_faults(
    server: FakeTelegramServer,
) -> None:
    server.fail_next("sendMessage", status=400, chat_id=OTHER_USER, times=2)
    server.fail_next("sendMessage", status=502)
    async with Bot(server.token, base_url=server.base_url) as bot:
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(USER, "一")  # the chat filter skips the first fault
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(OTHER_USER, "二")
        with pytest.raises(BadRequest):
            await bot.send_message(OTHER_USER, "三")
        await bot.send_message(OTHER_USER, "四")
    assert [m.text for m in server.messages_to(OTHER_USER)] == ["四"]
    assert [c.status for c in server.failed] == [502, 400, 400]


# ---------------------------------------------------------------------- HTML and text limits


@pytest.mark.parametrize("escaped", [True, False], ids=["escaped", "unescaped"])
async def test_user_text_in_an_html_reply_must_be_escaped(
    server: FakeTelegramServer, escaped: bool
) -> None:
    async def quote_back(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.text is not None
        text = html.escape(message.text) if escaped else message.text
        await message.reply_html(f"<b>你说：</b>{text}")

    errors = ErrorLog()
    async with running(build_app(server, errors=errors, text_handler=quote_back)):
        server.send_text(USER, "日薪 <200 & 没合同")
        if escaped:
            [reply] = await server.wait_for_messages(USER, 1)
        else:
            error = await errors.wait_for_error()

    if escaped:
        assert reply.shown_text == "你说：日薪 <200 & 没合同"
        assert reply.result["entities"] == [{"type": "bold", "offset": 0, "length": 3}]
    else:
        assert isinstance(error, BadRequest)
        assert error.message.startswith("Can't parse entities: unsupported start tag")
        assert server.messages_to(USER) == []


async def test_html_and_length_checks_through_a_bot(server: FakeTelegramServer) -> None:
    async with Bot(server.token, base_url=server.base_url) as bot:
        sent = await bot.send_message(
            USER,
            '<b>工资</b> &lt;3 <a href="https://example.org">链接</a>',
            parse_mode=ParseMode.HTML,
        )
        assert sent.text == "工资 <3 链接"
        assert [sent.parse_entity(e) for e in sent.entities] == ["工资", "链接"]
        assert sent.entities[1].url == "https://example.org"

        with pytest.raises(BadRequest, match=r"(?i)can't parse entities: unclosed start tag"):
            await bot.send_message(USER, "1 <2", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match=r"(?i)can't find end tag"):
            await bot.send_message(USER, "<b>粗体", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(USER, "字" * 4097)
        with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
            await bot.send_message(USER, "<b></b>", parse_mode=ParseMode.HTML)
        await bot.send_message(USER, "字" * 4096)
        # The limit counts the text after parsing, not the markup.
        await bot.send_message(USER, f"<b>{'字' * 4096}</b>", parse_mode=ParseMode.HTML)
        # Markup is only checked for HTML: without parse_mode '<' is plain text.
        plain = await bot.send_message(USER, "1 < 2 & <b>")
        assert plain.text == "1 < 2 & <b>"

    assert [m.text for m in server.messages_to(USER)][-1] == "1 < 2 & <b>"
    assert len(server.messages_to(USER)) == 4
    assert len(server.failed) == 4


@pytest.mark.parametrize(
    ("markup", "text", "entities"),
    [
        ("plain", "plain", []),
        ("<b>a</b><i>b</i>", "ab", [("bold", 0, 1), ("italic", 1, 1)]),
        ("<b>粗<i>斜</i></b>", "粗斜", [("bold", 0, 2), ("italic", 1, 1)]),
        ("👍<u>x</u>", "👍x", [("underline", 2, 1)]),  # offsets count UTF-16 units
        ("&lt;&gt;&amp;&quot;&#20320;&#x597D;", '<>&"你好', []),
        (
            '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>',
            "st",
            [("spoiler", 0, 1), ("spoiler", 1, 1)],
        ),
        ("<blockquote expandable>q</blockquote>", "q", [("expandable_blockquote", 0, 1)]),
        (
            "<s>a</s><strike>b</strike><del>c</del>",
            "abc",
            [("strikethrough", 0, 1), ("strikethrough", 1, 1), ("strikethrough", 2, 1)],
        ),
        ("<code>x</code><B>y</B >", "xy", [("code", 0, 1), ("bold", 1, 1)]),
    ],
)
def test_parse_html_accepts_telegram_html(
    markup: str, text: str, entities: list[tuple[str, int, int]]
) -> None:
    parsed_text, parsed_entities = parse_html(markup)
    assert parsed_text == text
    assert [(e["type"], e["offset"], e["length"]) for e in parsed_entities] == entities


def test_parse_html_pre_with_language_and_links() -> None:
    text, entities = parse_html(
        '<pre><code class="language-python">x = 1</code></pre><a href="tg://user?id=1">u</a>'
    )
    assert text == "x = 1u"
    assert entities == [
        {"type": "pre", "offset": 0, "length": 5, "language": "python"},
        {"type": "text_link", "offset": 5, "length": 1, "url": "tg://user?id=1"},
    ]


@pytest.mark.parametrize(
    ("markup", "error"),
    [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("邮箱 <kahn@inbox.ru>", 'Unsupported start tag "kahn@inbox.ru" at byte offset 7'),
        ("<br/>", 'Unsupported start tag "br/" at byte offset 0'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b", "Unclosed start tag at byte offset 0"),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("工资 & 加班费", 'Unescaped "&" at byte offset 7'),
        ("&nbsp;", 'Unescaped "&" at byte offset 0'),
    ],
)
def test_parse_html_rejects_what_telegram_rejects(markup: str, error: str) -> None:
    with pytest.raises(HtmlParseError) as caught:
        parse_html(markup)
    assert str(caught.value).startswith(error)


def test_a_bare_ampersand_is_text_when_not_strict() -> None:
    """Telegram itself keeps an '&' that starts no entity; the fake is stricter by default."""
    assert parse_html("A & B &nbsp;", strict_ampersand=False) == ("A & B &nbsp;", [])


# ---------------------------------------------------------------------- flood limits


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_flood_limits_answer_429_over_the_limits() -> None:
    clock = FakeClock()
    async with FakeTelegramServer(enforce_limits=True, clock=clock) as server:

        async def send(chat_id: int) -> tuple[int, JSONDict]:
            return await api(server, "sendMessage", json={"chat_id": chat_id, "text": "通知"})

        # One message per second in a chat.
        assert (await send(1))[0] == 200
        status, body = await send(1)
        assert (status, body) == (
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1},
            },
        )
        clock.now += 1.0
        assert (await send(1))[0] == 200

        # Thirty messages per second overall.
        clock.now += 1.0
        statuses = [(await send(100 + n))[0] for n in range(31)]
        assert statuses == [200] * 30 + [429]
        clock.now += 1.0
        assert (await send(131))[0] == 200

        # Twenty messages per minute in a group, even when spaced a second apart.
        for _ in range(20):
            clock.now += 1.0
            assert (await send(GROUP))[0] == 200
        clock.now += 1.0
        status, body = await send(GROUP)
        assert (status, body["parameters"]) == (429, {"retry_after": 40})

        # Other methods are not limited.
        assert (await api(server, "sendChatAction", json={"chat_id": 1, "action": "typing"}))[
            0
        ] == 200

    assert len(server.rate_limited) == 3
    assert all(call.status == 429 for call in server.rate_limited)
    assert server.rate_limited == [c for c in server.failed if c.status == 429]
    assert [len(server.messages_to(chat)) for chat in (1, 130, GROUP)] == [2, 0, 20]


# ---------------------------------------------------------------------- wire format and polling


async def test_json_form_and_query_parameters_mean_the_same(server: FakeTelegramServer) -> None:
    markup = {"inline_keyboard": [[{"text": "是", "callback_data": "yes"}]]}
    await api(server, "sendMessage", json={"chat_id": 7, "text": "123", "reply_markup": markup})
    await api(
        server,
        "sendMessage",
        data={
            "chat_id": "7",
            "text": "123",
            "reply_markup": '{"inline_keyboard": [[{"text": "是", "callback_data": "yes"}]]}',
        },
    )
    await api(server, "sendMessage", query={"chat_id": "7", "text": "123"}, http_method="GET")
    json_call, form_call, query_call = server.messages_to(7)
    assert (
        json_call.params
        == form_call.params
        == {"chat_id": 7, "text": "123", "reply_markup": markup}
    )
    assert query_call.params == {"chat_id": 7, "text": "123"}
    assert [c.message_id for c in server.messages_to(7)] == [1, 2, 3]


async def test_callback_data_over_64_bytes_is_rejected(server: FakeTelegramServer) -> None:
    async with Bot(server.token, base_url=server.base_url) as bot:
        long_data = "工资" * 11  # 22 Chinese characters are 66 UTF-8 bytes
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("选", callback_data=long_data)]])
        with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
            await bot.send_message(USER, "请选择", reply_markup=keyboard)


async def test_edits_and_deletes_fail_like_telegram(server: FakeTelegramServer) -> None:
    async with Bot(server.token, base_url=server.base_url) as bot:
        sent = await bot.send_message(USER, "原文")
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_text("原文", chat_id=USER, message_id=sent.message_id)
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await bot.edit_message_text("新", chat_id=USER, message_id=999)
        user_message = server.send_text(USER, "用户的话")["message"]["message_id"]
        with pytest.raises(BadRequest, match=r"(?i)message can't be edited"):
            await bot.edit_message_text("改", chat_id=USER, message_id=user_message)
        assert await bot.delete_message(USER, sent.message_id)
        with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
            await bot.delete_message(USER, sent.message_id)
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await bot.answer_callback_query("123")


async def test_get_updates_offset_limit_and_allowed_updates(server: FakeTelegramServer) -> None:
    first = server.send_text(USER, "一")
    second = server.send_text(USER, "二")

    _, body = await api(server, "getUpdates", json={"limit": 1})
    assert body["result"] == [first]
    _, body = await api(server, "getUpdates")
    assert body["result"] == [first, second]  # not confirmed yet: delivered again
    _, body = await api(server, "getUpdates", json={"offset": second["update_id"]})
    assert body["result"] == [second]  # confirms (forgets) the first

    edited = server.edit_text(USER, second["message"]["message_id"], "二（改）")
    _, body = await api(
        server,
        "getUpdates",
        data={"offset": str(second["update_id"] + 1), "allowed_updates": '["edited_message"]'},
    )
    assert body["result"] == [edited]
    press = server.send_text(USER, "三")  # a message: filtered out by the remembered setting
    _, body = await api(server, "getUpdates", json={"offset": edited["update_id"] + 1})
    assert body["result"] == []
    _, body = await api(server, "getUpdates", json={"allowed_updates": []})  # back to default
    assert body["result"] == [press]
    _, body = await api(server, "getWebhookInfo")
    assert body["result"] == {"url": "", "has_custom_certificate": False, "pending_update_count": 1}


async def test_long_polling_waits_for_an_update_and_times_out_empty(
    server: FakeTelegramServer,
) -> None:
    _, body = await api(server, "getUpdates", json={"timeout": 0.05})
    assert body["result"] == []

    poll = asyncio.create_task(api(server, "getUpdates", json={"timeout": 30}))
    await until(lambda: server.long_polls_waiting == 1)
    update = server.send_text(USER, "来了")
    _, body = await asyncio.wait_for(poll, 10)  # far sooner than the 30 s poll timeout
    assert body["result"] == [update]


async def test_a_newer_poll_ends_the_older_one_with_conflict(server: FakeTelegramServer) -> None:
    older = asyncio.create_task(api(server, "getUpdates", json={"timeout": 30}))
    await until(lambda: server.long_polls_waiting == 1)
    status, _ = await api(server, "getUpdates", json={"timeout": 0})
    assert status == 200
    status, body = await asyncio.wait_for(older, 10)
    assert status == 409
    assert body["description"].startswith("Conflict: terminated by other getUpdates request")

    await api(server, "setWebhook", json={"url": "https://example.org/hook"})
    status, body = await api(server, "getUpdates")
    assert status == 409 and "webhook is active" in body["description"]
    await api(server, "deleteWebhook", data={"drop_pending_updates": "true"})
    assert (await api(server, "getUpdates"))[0] == 200


async def test_commands_are_recorded(server: FakeTelegramServer) -> None:
    async with Bot(server.token, base_url=server.base_url) as bot:
        await bot.set_my_commands([("start", "开始"), ("help", "帮助")])
        commands = await bot.get_my_commands()
        with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
            await bot.set_my_commands([("Start", "大写不行")])
    assert [(c.command, c.description) for c in commands] == [("start", "开始"), ("help", "帮助")]
    assert server.my_commands() == [
        {"command": "start", "description": "开始"},
        {"command": "help", "description": "帮助"},
    ]


async def test_uploads_and_downloads_through_ptb(server: FakeTelegramServer) -> None:
    async with Bot(
        server.token, base_url=server.base_url, base_file_url=server.base_file_url
    ) as bot:
        sent = await bot.send_document(
            USER,
            InputFile(b"%PDF-1.4 plan", filename="方案.pdf"),
            caption="<b>方案</b>",
            parse_mode=ParseMode.HTML,
        )
        assert sent.document is not None and sent.document.file_name == "方案.pdf"
        assert sent.caption == "方案"
        photo = await bot.send_photo(USER, sent.document.file_id)  # resend by file_id
        assert photo.photo[-1].file_size == len(b"%PDF-1.4 plan")

        injected = server.send_document(USER, file_name="合同.pdf", content=b"%PDF contract")
        file = await bot.get_file(injected["message"]["document"]["file_id"])
        assert bytes(await file.download_as_bytearray()) == b"%PDF contract"

    upload = server.calls("sendDocument")[0].params["document"]
    assert isinstance(upload, UploadedFile)
    assert (upload.filename, upload.content) == ("方案.pdf", b"%PDF-1.4 plan")


# ---------------------------------------------------------------------- injected updates


def _photo(server: FakeTelegramServer) -> JSONDict:
    return server.send_photo(USER, caption="工资条")


def _edited(server: FakeTelegramServer) -> JSONDict:
    original = server.send_text(USER, "旧")
    return server.edit_text(USER, original["message"]["message_id"], "新")


@pytest.mark.parametrize(
    ("inject", "accepts"),
    [
        (lambda s: s.send_text(USER, "你好"), filters.TEXT & ~filters.COMMAND),
        (lambda s: s.send_command(USER, "/start", "ref42"), filters.COMMAND),
        (lambda s: s.send_sticker(USER), filters.Sticker.ALL),
        (_photo, filters.PHOTO & filters.CAPTION),
        (lambda s: s.send_voice(USER), filters.VOICE),
        (lambda s: s.send_location(USER), filters.LOCATION),
        (lambda s: s.send_document(USER), filters.Document.PDF),
        (lambda s: s.send_contact(USER, "+8613800000000"), filters.CONTACT),
        (_edited, filters.UpdateType.EDITED_MESSAGE),
    ],
    ids=["text", "command", "sticker", "photo", "voice", "location", "document", "contact", "edit"],
)
def test_injected_updates_are_what_ptb_expects(
    inject: Callable[[FakeTelegramServer], JSONDict], accepts: BaseFilter
) -> None:
    server = FakeTelegramServer()
    update = Update.de_json(inject(server), None)
    assert update is not None
    assert accepts.check_update(update)
    assert update.effective_user is not None and update.effective_user.language_code == "zh-hans"


def test_entities_are_detected_with_utf16_offsets() -> None:
    server = FakeTelegramServer()
    raw = server.send_text(USER, f"/help@{DEFAULT_BOT_USERNAME} 👍 请问 @someone_else 呢")
    message = Update.de_json(raw, None).message
    assert message is not None
    found = {entity.type: text for entity, text in message.parse_entities().items()}
    assert found == {"bot_command": f"/help@{DEFAULT_BOT_USERNAME}", "mention": "@someone_else"}


async def test_group_messages_and_privacy_mode() -> None:
    async with FakeTelegramServer(privacy_mode=True) as server:
        async with Bot(server.token, base_url=server.base_url) as bot:
            await bot.send_message(GROUP, "大家好，我是政策机器人")

        def group_text(text: str, **kwargs: Any) -> JSONDict:
            return server.send_text(USER, text, chat_id=GROUP, chat_type="supergroup", **kwargs)

        chatter = group_text("今天加班吗")
        mention = group_text(f"@{DEFAULT_BOT_USERNAME} 社保怎么交？")
        reply = group_text("那工伤呢？", reply_to_bot=True)
        command = group_text(f"/help@{DEFAULT_BOT_USERNAME}")
        other_bot = group_text("/help@some_other_bot")

    delivered = [u["update_id"] for u in server.pending_updates]
    assert delivered == [u["update_id"] for u in (mention, reply, command)]
    assert server.withheld == [chatter, other_bot]
    assert reply["message"]["reply_to_message"]["text"] == "大家好，我是政策机器人"
    assert reply["message"]["chat"] == {
        "id": GROUP,
        "type": "supergroup",
        "title": f"测试群 {GROUP}",
    }


def test_sent_call_describes_itself() -> None:
    call = SentCall("sendMessage", {"chat_id": 1, "text": "hi"}, 1, "hi", None, at=0.0, seq=3)
    assert call.describe() == "#3 sendMessage chat=1 text='hi' -> ok"
