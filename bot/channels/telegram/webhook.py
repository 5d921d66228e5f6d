"""Telegram's webhook as a route of the shared server: the secret checked, the decoded update
queued on the application (one event loop with the other channels)."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from telegram import Update

from bot.channels.request_body import read_capped_body
from bot.channels.telegram.application import on_start, on_stop
from bot.channels.telegram.context import TelegramApplication
from bot.channels.telegram.sending import send_with_retry
from bot.events import log_event

# Telegram sends the webhook secret in this header; a request without it is not from Telegram.
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1024 * 1024


def decoded_update(data: object, application: TelegramApplication) -> Update | None:
    """The update in a webhook body, or None when it is not one Telegram would send."""
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        return None
    try:
        return Update.de_json(data, application.bot)
    except Exception:  # PTB raises whatever a malformed field makes it (KeyError, TypeError, …)
        return None


def webhook_endpoint(
    application: TelegramApplication, secret: str
) -> Callable[[Request], Awaitable[Response]]:
    """The route for the shared server: check the secret, queue the decoded update, answer 200."""

    expected = secret.encode()

    async def receive_update(request: Request) -> Response:
        # Header values arrive as latin-1 text: compare their bytes (compare_digest raises on a
        # str with non-ASCII characters).
        sent = request.headers.get(SECRET_HEADER, "").encode("latin-1")
        if not hmac.compare_digest(sent, expected):
            log_event("telegram_webhook_refused", logging.WARNING)
            return Response(status_code=403)
        body = await read_capped_body(request, MAX_UPDATE_BYTES)
        try:
            data = json.loads(body) if body is not None else None
        except ValueError:
            data = None
        update = decoded_update(data, application)
        if update is None:
            log_event("telegram_webhook_refused", logging.WARNING, reason="not_an_update")
            return Response(status_code=400)
        await application.update_queue.put(update)
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
