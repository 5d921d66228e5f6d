"""Fuzz: what anyone on the internet can send — mixed valid, odd and malformed requests — over the
real app's /api/chat, /wechat and Telegram webhook routes (hypothesis). No request gets a 5xx, the
bot's replies are all accepted by (the fake) Telegram, and the log stays clean: no error, no
traceback, none of the texts sent.

POLICYBOT_FUZZ_EXAMPLES sets the examples per route (default 300); run with -s for the figures.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channels.telegram.webhook import SECRET_HEADER
from bot.channels.wechat.adapter import EVENTS, MESSAGE_TYPES
from bot.events import configure_logging
from bot.server import build_server
from tests.bot.server_harness import engine_in, production_app, settings_for
from tests.fake_telegram import DEFAULT_TOKEN, FakeTelegramServer, SentCall
from tests.fake_wechat import AES_KEY, APPID, TOKEN, WechatPlatform, to_xml

EXAMPLES = int(os.environ.get("POLICYBOT_FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
SECRET = "fuzz-webhook-secret_1"
WEBHOOK = "https://bot.example.org/tg/hook"
PRIMED_USERS = (5001, 5002, 5003)
UNLIMITED = 10**9
# Long enough that finding one in the log means it was logged, not a coincidence.
LEAK_CHARS = 8
QUIET_SECONDS = 1.0
DOCUMENTED = MESSAGE_TYPES | EVENTS

# ------------------------------------------------------------------ what is sent

WORDS = (
    "法律援助", "同意", "不同意", "欠薪", "工伤", "其他", "武清", "滨海新区", "13812345678",
    "+86 139 0000 1111", "跳过", "某某建筑劳务公司", "老板拖欠我三个月工资共一万二", "确认提交",
    "取消", "/forget", "确认删除", "/mycase", "/subscribe", "/unsubscribe", "订阅", "/legalaid",
    "/start chunfeng_xiqing", "/start", "/help", "菜单", "1", "２", "9", "看后面",
    "孩子能上公办学校吗", "老闆欠薪怎麼辦", "zai tianjin neng luohu ma", "", " ",
)  # fmt: skip
ODD = ("\x00", "\x01", "\x1b", "\x7f", "\x85", "\u2028", "\ufeff", "\u202e", "\r", "\n", "\t",
       "<", ">", "&", '"', "'", "]]>", "<!--", "<?", "<b>", "&amp;", "😀", "²", "١", "\ud800")  # fmt: skip
PLAN = "tianjin-2023-county-migrant-plan"
STEPS = (
    "consent",
    "category",
    "district",
    "phone",
    "employer",
    "description",
    "confirm",
    "cat",
    "dist",
)
PAYLOAD_KINDS = ("fb", "la", "topic", "ans", "full", "sub", "forget", "case", "menu", "legal", "wx")
FIELDS = ("yes", "no", "submit", "cancel", "skip", "consent", "category", "district", "phone",
          "employer", "description", "confirm", "cat", "dist", "wages", "injury", "jobs", "legal",
          "all", "off", "more", "claim", "close", "note", "tianjin-2023-county-migrant-plan",
          "2.3.3", "²", "١٢", "9223372036854775808", "-1", "01", "")  # fmt: skip

odd_text = st.lists(st.one_of(st.sampled_from(ODD), st.sampled_from(WORDS), st.text(max_size=6)),
                    max_size=12).map("".join)  # fmt: skip
texts = st.one_of(st.sampled_from(WORDS), odd_text, st.text(max_size=120))
odd_numbers = st.one_of(
    st.sampled_from(("²", "١٢", "9223372036854775808", "99999999999999999999", "0", "01", "-1", "1",
                     "3", "15", "16", "")),
    st.integers(0, 2**70).map(str),
)  # fmt: skip
any_field = st.one_of(st.sampled_from(FIELDS), st.text(max_size=8))
# The dialogue's own payload shapes with odd values in their fields, then anything at all.
payloads = st.one_of(
    st.builds("fb:{}:{}".format, odd_numbers, st.sampled_from(("0", "1", "2", ""))),
    st.builds("la:district:{}".format, odd_numbers),
    st.builds("la:dist:{}".format, odd_numbers),
    st.builds("la:{}:{}".format, st.sampled_from(STEPS), any_field),
    st.builds("case:{}:{}".format, st.sampled_from(("claim", "close", "note", "x")), odd_numbers),
    st.builds("{}:{}".format, st.sampled_from(("topic", "sub", "forget", "la", "wx")), any_field),
    st.builds("{}:{}:{}".format, st.sampled_from(("ans", "full")),
              st.sampled_from((PLAN, "x", "")), st.sampled_from(("2.3.3", "1", "", "²"))),
    st.sampled_from(("menu", "legal", "wx:more", "la:cancel", "la:submit", "la:yes", "la:skip")),
    st.builds(
        lambda kind, fields: ":".join((kind, *fields)),
        st.sampled_from(PAYLOAD_KINDS),
        st.lists(st.one_of(odd_numbers, any_field), max_size=3),
    ),
    odd_text,
)  # fmt: skip
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def without_surrogates(text: str) -> str:
    """What a platform that speaks UTF-8 can send at all."""
    return text.encode("utf-8", "ignore").decode()


def raw_bytes(text: str) -> bytes:
    """`text` as bytes, lone surrogates and all (invalid UTF-8 is what a forger may send)."""
    return text.encode("utf-8", "surrogatepass")


def as_json(value: object) -> bytes:
    return json.dumps(value).encode()


# ------------------------------------------------------------------ the app under fuzz


@dataclass
class Routes:
    http: httpx.AsyncClient
    telegram: FakeTelegramServer
    wechat: WechatPlatform
    log: io.StringIO
    statuses: Counter[str] = field(default_factory=Counter)
    sent_texts: list[str] = field(default_factory=list)
    primed: dict[int, SentCall] = field(default_factory=dict)

    def record(self, route: str, response: httpx.Response, *sent: str) -> None:
        self.statuses[f"{route} {response.status_code}"] += 1
        self.sent_texts.extend(sent)
        assert response.status_code < 500, (route, response.status_code, sent)


# An event line: date, time, level, the event's fixed name, then `field=value` pairs.
EVENT_NAME = re.compile(r"^(\S+ \S+ [A-Z]+ )\S+", re.MULTILINE)
FIELD_NAME = re.compile(r"\b\w+=")


def logged_values(log: str) -> str:
    """The log without its own vocabulary (event and field names): only what it was given."""
    return FIELD_NAME.sub("=", EVENT_NAME.sub(r"\1", log))


def assert_clean(log: str, sent: list[str]) -> None:
    assert " ERROR " not in log and " CRITICAL " not in log, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
    values = logged_values(log)
    for text in sent:
        shown = text.strip()
        if len(shown) >= LEAK_CHARS:
            assert shown not in values, f"logged what was sent: {shown!r}"


async def until_quiet(telegram: FakeTelegramServer, *, limit: float = 90.0) -> None:
    """Until the bot has sent nothing for a second: every queued update is answered."""
    deadline = time.monotonic() + limit
    seen, quiet_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = len(telegram.sent) + len(telegram.failed)
        if count != seen:
            seen, quiet_since = count, time.monotonic()
        elif time.monotonic() - quiet_since >= QUIET_SECONDS:
            return
        await asyncio.sleep(0.05)


@pytest.fixture
async def routes(tmp_path: Path, plan_matcher: Any) -> AsyncIterator[Routes]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    log = io.StringIO()
    configure_logging("INFO", as_json=False, stream=log)
    try:
        async with FakeTelegramServer() as telegram:
            config = settings_for(
                tmp_path,
                telegram={"token": DEFAULT_TOKEN, "base_url": telegram.base_url,
                          "base_file_url": telegram.base_file_url, "webhook_secret": SECRET,
                          "connect_timeout": 5, "read_timeout": 5},
                wechat={"token": TOKEN, "appid": APPID, "mode": "compat",
                        "encoding_aes_key": AES_KEY},
                web_chat={"requests_per_minute_per_session": UNLIMITED,
                          "requests_per_minute_per_ip": UNLIMITED},
            )  # fmt: skip
            wired = production_app(config, engine_in(tmp_path), plan_matcher)
            app = build_server(wired, wired.channels(webhook_url=WEBHOOK))
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
                async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                    routes = Routes(http, telegram, WechatPlatform(http, mode="compat"), log)
                    for user in PRIMED_USERS:  # a bot message to press forged buttons under
                        update = telegram.send_text(user, "菜单")
                        await http.post("/tg/hook", json=update, headers={SECRET_HEADER: SECRET})
                        (routes.primed[user],) = await telegram.wait_for_messages(user, 1)
                    yield routes
                    await until_quiet(telegram)
                    refused = [call.describe() for call in telegram.failed]
                    assert refused == [], refused[:5]
                    assert_clean(log.getvalue(), routes.sent_texts)
                    print(f"\nfuzz figures: {dict(sorted(routes.statuses.items()))}")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


# ------------------------------------------------------------------ /api/chat

known_sessions = st.sampled_from([f"fuzz-session-{n:04d}-abcdef" for n in range(4)])
sessions = st.one_of(known_sessions, known_sessions, st.text(max_size=140))
# Mostly what the page sends (so the dialogue and its flows are reached), then anything.
chat_bodies = st.one_of(
    st.fixed_dictionaries({"session": known_sessions, "text": texts}),
    st.fixed_dictionaries({"session": known_sessions, "choice": payloads}),
    st.fixed_dictionaries(
        {"session": sessions},
        optional={
            "text": texts,
            "choice": payloads,
            "traditional": st.one_of(st.booleans(), st.none(), st.integers(), st.text(max_size=3)),
            "extra": st.integers(),
        },
    ),
)
chat_requests = st.tuples(
    st.one_of(
        chat_bodies.map(as_json),
        chat_bodies.map(as_json),
        chat_bodies.map(as_json),
        json_values.map(as_json),
        st.binary(max_size=200),
        st.just(b'{"session": "fuzz-session-0000-abcdef", "text": "' + "长".encode() * 6000 + b'"}'),
    ),
    st.sampled_from(["application/json"] * 6 + ["application/json; charset=utf-8", "text/plain",
                                                  "", "multipart/form-data; boundary=x"]),
)  # fmt: skip


@FUZZ
@given(request=chat_requests)
async def test_web_chat_answers_anything_without_a_5xx(
    routes: Routes, request: tuple[bytes, str]
) -> None:
    body, content_type = request
    headers = {"Content-Type": content_type} if content_type else {}
    response = await routes.http.post("/api/chat", content=body, headers=headers)
    routes.record("web", response, body.decode("utf-8", "replace"))
    assert_clean(routes.log.getvalue(), routes.sent_texts[-1:])


# ------------------------------------------------------------------ /wechat

openids = st.one_of(
    st.sampled_from([f"oFuzz_{n:04d}" for n in range(4)]),
    st.text(max_size=40).map(without_surrogates),
)
wechat_fields = st.fixed_dictionaries(
    {
        "ToUserName": st.just("gh_policybot"),
        "FromUserName": openids,
        "CreateTime": st.integers(0, 2**40),
        "MsgType": st.one_of(st.sampled_from(["text", "event", "voice", "image", "link"]), st.text(max_size=6)),
    },
    optional={
        "Content": texts.map(without_surrogates),
        "MsgId": st.integers(-1, 2**70),
        "Event": st.one_of(st.sampled_from(["subscribe", "unsubscribe", "CLICK", "VIEW"]), st.text(max_size=8)),
        "EventKey": st.one_of(payloads, st.sampled_from(["qrscene_chunfeng_xiqing", "/help", "/legalaid"])).map(without_surrogates),
        "Recognition": texts.map(without_surrogates),
    },
)  # fmt: skip
odd_queries = st.dictionaries(
    st.sampled_from(
        ["signature", "timestamp", "nonce", "msg_signature", "encrypt_type", "echostr"]
    ),
    st.text(max_size=50).map(without_surrogates),
)
wechat_requests = st.one_of(
    st.tuples(st.just("plain"), wechat_fields),
    st.tuples(st.just("plain"), wechat_fields),
    st.tuples(st.just("encrypted"), wechat_fields),
    st.tuples(st.just("encrypted"), wechat_fields),
    st.tuples(st.just("odd-query"), odd_queries, st.binary(max_size=300)),
    st.tuples(st.just("signed-junk"), st.one_of(st.binary(max_size=300), odd_text.map(raw_bytes))),
)


@FUZZ
@given(request=wechat_requests)
async def test_wechat_answers_anything_without_a_5xx(
    routes: Routes, request: tuple[Any, ...]
) -> None:
    wechat, kind = routes.wechat, request[0]
    sent: list[str] = []
    if kind in ("plain", "encrypted"):
        fields = request[1]
        # What was typed or made up; the documented types and events may be logged by name.
        sent = [str(value) for value in fields.values() if str(value).lower() not in DOCUMENTED]
    if kind == "plain":
        response = await wechat.post_raw(to_xml(fields).encode())
    elif kind == "encrypted":
        reply = await wechat.deliver(fields)
        response = httpx.Response(reply.status, text=reply.body)
    elif kind == "odd-query":
        response = await routes.http.post("/wechat", params=request[1], content=request[2])
    else:
        response = await wechat.post_raw(request[1])
    routes.record("wechat", response, *sent)
    assert_clean(routes.log.getvalue(), sent)


# ------------------------------------------------------------------ Telegram's webhook

users = st.integers(5100, 5400)
telegram_requests = st.one_of(
    st.tuples(st.just("text"), users, texts.map(without_surrogates)),
    st.tuples(st.just("contact"), users, st.one_of(st.sampled_from(["+8613812345678", "13812345678", "+12025550123"]), st.text(max_size=20).map(without_surrogates))),
    st.tuples(st.just("press"), st.sampled_from(PRIMED_USERS), payloads.map(without_surrogates)),
    st.tuples(st.just("json"), json_values),
    st.tuples(st.just("bytes"), st.binary(max_size=200)),
    st.tuples(st.just("secret"), st.binary(max_size=40)),
)  # fmt: skip


@FUZZ
@given(request=telegram_requests)
async def test_telegram_webhook_takes_anything_without_a_5xx(
    routes: Routes, request: tuple[Any, ...]
) -> None:
    telegram, kind = routes.telegram, request[0]
    secret: bytes = SECRET.encode()
    sent: list[str] = []
    if kind == "text":
        sent = [request[2]]
        body = as_json(telegram.send_text(request[1], request[2]))
    elif kind == "contact":
        sent = [request[2]]
        body = as_json(telegram.send_contact(request[1], request[2]))
    elif kind == "press":
        sent = [request[2]]
        body = as_json(telegram.press_forged(request[1], routes.primed[request[1]], request[2]))
    elif kind == "json":
        body = as_json(request[1])
    elif kind == "bytes":
        body = request[1]
    else:
        body, secret = as_json(telegram.send_text(5100, "你好")), request[1]
    response = await routes.http.post(
        "/tg/hook",
        content=body,
        headers={SECRET_HEADER: secret, "Content-Type": "application/json"},
    )
    routes.record("telegram", response, *sent)
