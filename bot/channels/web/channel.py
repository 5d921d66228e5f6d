"""The web chat's registration: its page, API and static files on the shared server."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.channels.base import ChannelDeps, ChannelParts, ChannelSpec
from bot.channels.web.chat import CHANNEL, WebChat, WebChatLimits


async def to_chat(_request: Request) -> Response:
    return RedirectResponse("/chat")


def build(deps: ChannelDeps) -> ChannelParts | None:
    """Always on the shared server; nothing to run on its own."""
    if deps.alone:
        return None
    web_chat = WebChat(
        dialogue=deps.dialogue,
        user_keys=deps.user_keys,
        to_traditional=deps.converter.to_traditional,
        limits=WebChatLimits.from_settings(deps.settings.web_chat, deps.redis),
    )
    return ChannelParts(
        CHANNEL,
        routes=[
            Route("/", to_chat),
            Route("/chat", web_chat.page),
            Route("/api/chat", web_chat.api, methods=["POST"]),
            Mount("/static", StaticFiles(packages=[("bot.channels.web", "static")]), name="static"),
        ],
        notice="网页聊天：在浏览器打开 {base}/chat",
    )


SPEC = ChannelSpec(CHANNEL, build)
