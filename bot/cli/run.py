"""`policybot run` and `policybot serve`: the bot on its own (Telegram with a token) or the one
ASGI server (web chat, WeChat, Telegram's webhook)."""

from __future__ import annotations

import argparse
import sys

from bot.app import App, build_app
from bot.channels.base import ChannelConfigError, RunOptions
from bot.cli.command import EXIT_BAD_CONFIG, Subcommands
from bot.settings import Settings

NO_TOKEN_NOTICE = (
    "没有设置 TELEGRAM_BOT_TOKEN，先开网页聊天（终端里聊天用 policybot chat）。\n"
    "要接入 Telegram：在 Telegram 里找 @BotFather，发 /newbot 按提示建一个机器人，"
    "把它给的 token 设为环境变量 TELEGRAM_BOT_TOKEN 后再运行 policybot run。\n"
)
DEFAULT_SERVE_PORT = 8080


def serve(app: App, *, host: str, port: int | None, webhook: str | None) -> int:
    """The shared server under uvicorn, every configured channel mounted."""
    import uvicorn

    from bot.server import build_server

    try:
        channels = app.served(webhook_url=webhook)
    except ChannelConfigError as error:
        sys.stderr.write(f"{error}\n")
        return EXIT_BAD_CONFIG
    port = port if port is not None else DEFAULT_SERVE_PORT
    for parts in channels:
        if parts.notice is not None:
            sys.stderr.write(parts.notice.format(base=f"http://{host}:{port}") + "\n")
    server = build_server(app, channels)
    uvicorn.run(
        server,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        # uvicorn's loggers reach our handler (and its scrubber) instead of uvicorn's own.
        log_config=None,
        # X-Forwarded-For is read by the web chat, from its configured proxies only.
        proxy_headers=False,
    )
    return 0


def command_serve(settings: Settings, args: argparse.Namespace) -> int:
    return serve(build_app(settings), host=args.host, port=args.port, webhook=args.webhook)


def command_run(settings: Settings, args: argparse.Namespace) -> int:
    """A channel that runs on its own if one is configured (Telegram), else the server."""
    app = build_app(settings)
    try:
        channels = app.channels(alone=True, webhook_url=args.webhook)
    except ChannelConfigError as error:
        sys.stderr.write(f"{error}\n")
        return EXIT_BAD_CONFIG
    runner = next((parts.run_alone for parts in channels if parts.run_alone is not None), None)
    if runner is None:
        sys.stderr.write(NO_TOKEN_NOTICE)
        return serve(app, host=args.listen, port=args.port, webhook=None)
    runner(RunOptions(args.listen, args.port, housekeeping=lambda: app.housekeeping(channels)))
    return 0


def add_commands(commands: Subcommands) -> None:
    run = commands.add_parser(
        "run", help="启动机器人（有 TELEGRAM_BOT_TOKEN 时接 Telegram，否则开网页聊天）"
    )
    run.add_argument("--webhook", metavar="URL", help="用 webhook（HTTPS 地址）而不是长轮询")
    run.add_argument("--listen", default="127.0.0.1", help="监听地址")
    run.add_argument("--port", type=int, help="监听端口（webhook 默认 8443，网页聊天默认 8080）")
    run.set_defaults(handler=command_run)

    serve = commands.add_parser(
        "serve", help="启动网页聊天、公众号回调（和 Telegram webhook）的服务器"
    )
    serve.add_argument("--host", default="127.0.0.1", help="监听地址")
    serve.add_argument("--port", type=int, default=DEFAULT_SERVE_PORT, help="监听端口")
    serve.add_argument(
        "--webhook", metavar="URL", help="同时接 Telegram webhook（需要 token 和密钥）"
    )
    serve.set_defaults(handler=command_serve)
