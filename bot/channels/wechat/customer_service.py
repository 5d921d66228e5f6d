"""WeChat's customer-service message API: how a late answer still reaches the person.

WeChat waits 5 seconds for a passive reply; an answer that misses the budget is sent afterwards
with `message/custom/send`, under an access token fetched with the appid and appsecret and
refreshed when WeChat says it expired. The base URL is configurable so tests use a fake server.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx

from bot.events import log_event

# WeChat's error codes for an invalid or expired access token: fetch a new one and retry once.
STALE_TOKEN_ERRORS = frozenset({40001, 40014, 42001})
# Renew a little before WeChat's expiry (7,200 s) so a token never dies mid-request.
TOKEN_MARGIN_SECONDS = 300
REQUEST_TIMEOUT_SECONDS = 10.0


class CustomerServiceError(Exception):
    """WeChat refused the request (errcode and errmsg in the message, never the text sent)."""

    def __init__(self, reason: str, *, errcode: int | None = None, status: int | None = None):
        super().__init__(reason)
        self.errcode = errcode
        self.status = status


class CustomerServiceClient:
    """Sends text messages to a person (by openid) outside the 5-second reply window."""

    def __init__(
        self,
        *,
        base_url: str,
        appid: str,
        appsecret: str,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._appid = appid
        self._appsecret = appsecret
        self._http = http or httpx.AsyncClient(timeout=REQUEST_TIMEOUT_SECONDS)
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _access_token(self, *, renew: bool = False) -> str:
        async with self._token_lock:
            if not renew and self._token and time.monotonic() < self._token_expires:
                return self._token
            response = await self._http.get(
                f"{self._base_url}/cgi-bin/token",
                params={
                    "grant_type": "client_credential",
                    "appid": self._appid,
                    "secret": self._appsecret,
                },
            )
            body = self._json(response)
            token = body.get("access_token")
            if not isinstance(token, str):
                raise CustomerServiceError(
                    f"token: {body.get('errcode')} {body.get('errmsg')}",
                    errcode=int(body.get("errcode", -1)),
                )
            lifetime = float(body.get("expires_in", 7200))
            self._token = token
            self._token_expires = time.monotonic() + max(lifetime - TOKEN_MARGIN_SECONDS, 60)
            return token

    async def send_text(self, openid: str, text: str) -> None:
        """One text message; a stale access token is renewed and the send retried once."""
        payload = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        # Raw UTF-8, not \\u escapes: the message body is Chinese.
        content = json.dumps(payload, ensure_ascii=False).encode()
        for renew in (False, True):
            token = await self._access_token(renew=renew)
            response = await self._http.post(
                f"{self._base_url}/cgi-bin/message/custom/send",
                params={"access_token": token},
                content=content,
                headers={"Content-Type": "application/json; charset=utf-8"},
            )
            body = self._json(response)
            errcode = int(body.get("errcode", 0))
            if errcode == 0:
                log_event("wechat_customer_message_sent", chars=len(text))
                return
            if errcode not in STALE_TOKEN_ERRORS:
                break
        raise CustomerServiceError(f"send: {errcode} {body.get('errmsg')}", errcode=errcode)

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        if response.status_code >= 400:
            raise CustomerServiceError(f"HTTP {response.status_code}", status=response.status_code)
        body = response.json()
        if not isinstance(body, dict):
            raise CustomerServiceError("not a JSON object")
        return body
