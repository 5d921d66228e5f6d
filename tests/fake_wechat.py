"""Fakes of WeChat's side: the platform calling our /wechat callback, and its customer-service API.

`WechatPlatform` does what WeChat's servers do, written here independently of `bot/channels/wechat/crypto.py`
so a mistake there shows: it signs each request (SHA-1 of the sorted token, timestamp and nonce),
in compat and safe mode encrypts the message (AES-256-CBC, 16 random bytes + 4-byte length +
message + appid, PKCS#7 to 32 bytes), checks the reply's MsgSignature and decrypts it.

`FakeCustomerServiceApi` is a small aiohttp server speaking `cgi-bin/token` and
`cgi-bin/message/custom/send`, recording what was sent.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import os
import secrets
import struct
import time
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

import httpx
from aiohttp import web
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

TOKEN = "policybotTest"
APPID = "wx1234567890abcdef"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APPSECRET = "fake-app-secret"
ACCOUNT = "gh_policybot"


def sha1_signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def to_xml(fields: dict[str, str | int]) -> str:
    inner = "".join(
        f"<{k}>{v}</{k}>" if isinstance(v, int) else f"<{k}><![CDATA[{v}]]></{k}>"
        for k, v in fields.items()
    )
    return f"<xml>{inner}</xml>"


def from_xml(text: str) -> dict[str, str]:
    return {child.tag: child.text or "" for child in ElementTree.fromstring(text)}


@dataclass
class WechatReply:
    status: int
    body: str
    fields: dict[str, str] | None  # the (decrypted) reply message; None for "success" or errors

    @property
    def content(self) -> str:
        assert self.fields is not None, f"no reply message: {self.status} {self.body!r}"
        return self.fields["Content"]


@dataclass
class WechatPlatform:
    http: httpx.AsyncClient
    mode: str = "plain"  # plain, compat (encrypted here) or safe
    token: str = TOKEN
    appid: str = APPID
    aes_key: str = AES_KEY
    path: str = "/wechat"
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(10_000_000_001))

    @property
    def _key(self) -> bytes:
        return base64.b64decode(self.aes_key + "=")

    def _encrypt(self, message: str, appid: str | None = None) -> str:
        body = message.encode()
        plain = (
            os.urandom(16) + struct.pack(">I", len(body)) + body + (appid or self.appid).encode()
        )
        pad = 32 - len(plain) % 32
        plain += bytes([pad]) * pad
        encryptor = Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16])).encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()

    def _decrypt(self, encrypted: str) -> str:
        decryptor = Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16])).decryptor()
        plain = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
        plain = plain[: -plain[-1]]
        (length,) = struct.unpack(">I", plain[16:20])
        assert plain[20 + length :].decode() == self.appid
        return plain[20 : 20 + length].decode()

    def signed_query(self, *, bad: bool = False, timestamp: int | None = None) -> dict[str, str]:
        """WeChat's query: signed now (or at `timestamp`, as a replay or a skewed clock would)."""
        nonce = secrets.token_hex(5)
        signed_at = str(int(time.time()) if timestamp is None else timestamp)
        return {
            "signature": "0" * 40 if bad else sha1_signature(self.token, signed_at, nonce),
            "timestamp": signed_at,
            "nonce": nonce,
        }

    async def verify(
        self, echostr: str, *, bad: bool = False, timestamp: int | None = None
    ) -> httpx.Response:
        return await self.http.get(
            self.path,
            params={**self.signed_query(bad=bad, timestamp=timestamp), "echostr": echostr},
        )

    async def post_raw(self, body: bytes, *, bad_signature: bool = False) -> httpx.Response:
        query = self.signed_query(bad=bad_signature)
        return await self.http.post(self.path, params=query, content=body)

    def signed_request(
        self,
        fields: dict[str, str | int],
        *,
        appid: str | None = None,
        bad_msg_signature: bool = False,
        timestamp: int | None = None,
    ) -> tuple[dict[str, str], str]:
        """The query and body WeChat would post for one message in this mode."""
        query = self.signed_query(timestamp=timestamp)
        message = to_xml(fields)
        if self.mode == "plain":
            return query, message
        encrypted = self._encrypt(message, appid)
        msg_signature = sha1_signature(self.token, query["timestamp"], query["nonce"], encrypted)
        query.update(
            encrypt_type="aes",
            msg_signature="0" * 40 if bad_msg_signature else msg_signature,
        )
        return query, to_xml({"ToUserName": ACCOUNT, "Encrypt": encrypted})

    async def deliver(
        self,
        fields: dict[str, str | int],
        *,
        appid: str | None = None,
        bad_msg_signature: bool = False,
        timestamp: int | None = None,
    ) -> WechatReply:
        """Send one message as WeChat would in this mode; the reply checked and decrypted."""
        query, body = self.signed_request(
            fields, appid=appid, bad_msg_signature=bad_msg_signature, timestamp=timestamp
        )
        response = await self.http.post(self.path, params=query, content=body.encode())
        text = response.text
        if response.status_code != 200 or text == "success" or not text:
            return WechatReply(response.status_code, text, None)
        reply = from_xml(text)
        if self.mode != "plain":
            expected = sha1_signature(
                self.token, reply["TimeStamp"], reply["Nonce"], reply["Encrypt"]
            )
            assert reply["MsgSignature"] == expected, "reply signature does not verify"
            reply = from_xml(self._decrypt(reply["Encrypt"]))
        return WechatReply(response.status_code, text, reply)

    def message_id(self) -> int:
        return next(self._ids)

    def text(self, openid: str, content: str, *, msg_id: int | None = None) -> dict[str, str | int]:
        return {
            "ToUserName": ACCOUNT,
            "FromUserName": openid,
            "CreateTime": int(time.time()),
            "MsgType": "text",
            "Content": content,
            "MsgId": msg_id if msg_id is not None else self.message_id(),
        }

    def event(
        self, openid: str, event: str, key: str = "", *, create_time: int | None = None
    ) -> dict[str, str | int]:
        fields: dict[str, str | int] = {
            "ToUserName": ACCOUNT,
            "FromUserName": openid,
            "CreateTime": create_time if create_time is not None else int(time.time()),
            "MsgType": "event",
            "Event": event,
        }
        if key:
            fields["EventKey"] = key
        return fields

    def voice(self, openid: str, recognition: str | None) -> dict[str, str | int]:
        fields: dict[str, str | int] = {
            "ToUserName": ACCOUNT,
            "FromUserName": openid,
            "CreateTime": int(time.time()),
            "MsgType": "voice",
            "MediaId": "media123",
            "Format": "amr",
            "MsgId": self.message_id(),
        }
        if recognition is not None:
            fields["Recognition"] = recognition
        return fields

    def media(self, openid: str, kind: str) -> dict[str, str | int]:
        return {
            "ToUserName": ACCOUNT,
            "FromUserName": openid,
            "CreateTime": int(time.time()),
            "MsgType": kind,
            "PicUrl": "http://example.invalid/p.jpg",
            "MsgId": self.message_id(),
        }


@dataclass
class SentText:
    openid: str
    content: str


class FakeCustomerServiceApi:
    """WeChat's token and customer-service endpoints on 127.0.0.1; records the messages sent."""

    def __init__(self, *, appid: str = APPID, appsecret: str = APPSECRET) -> None:
        self._appid = appid
        self._appsecret = appsecret
        self.sent: list[SentText] = []
        self.token_requests = 0
        self._tokens = itertools.count(1)
        self._valid_token = ""
        self._arrived = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self._refusals: list[tuple[int, str]] = []

    def expire_token(self) -> None:
        self._valid_token = "expired"

    def refuse_next(self, errcode: int, errmsg: str) -> None:
        """The next send is refused as WeChat would (e.g. 45015: past the 48-hour window)."""
        self._refusals.append((errcode, errmsg))

    async def __aenter__(self) -> FakeCustomerServiceApi:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_post("/cgi-bin/message/custom/send", self._send)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _token(self, request: web.Request) -> web.Response:
        self.token_requests += 1
        query = request.query
        if query.get("appid") != self._appid or query.get("secret") != self._appsecret:
            return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        self._valid_token = f"token-{next(self._tokens)}"
        return web.json_response({"access_token": self._valid_token, "expires_in": 7200})

    async def _send(self, request: web.Request) -> web.Response:
        if request.query.get("access_token") != self._valid_token:
            return web.json_response({"errcode": 42001, "errmsg": "access_token expired"})
        if self._refusals:
            errcode, errmsg = self._refusals.pop(0)
            return web.json_response({"errcode": errcode, "errmsg": errmsg})
        body: dict[str, Any] = await request.json()
        assert body["msgtype"] == "text"
        async with self._arrived:
            self.sent.append(SentText(body["touser"], body["text"]["content"]))
            self._arrived.notify_all()
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def wait_for(self, count: int, timeout: float = 10) -> list[SentText]:
        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: len(self.sent) >= count), timeout)
        return list(self.sent)
