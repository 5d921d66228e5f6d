"""`policybot run` and `policybot serve`: the bot on its own (Telegram with a token) or the one
ASGI server (web chat, WeChat, Telegram's webhook)."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from bot.app import App, build_app, import_knowledge, prepare_engine
from bot.channels.base import ChannelConfigError, RunOptions
from bot.cli.command import EXIT_BAD_CONFIG, Subcommands
from bot.events import configure_logging
from bot.settings import CONFIG_PATH_ENV, Settings, load_settings

NO_TOKEN_NOTICE = (
    "没有设置 TELEGRAM_BOT_TOKEN，先开网页聊天（终端里聊天用 policybot chat）。\n"
    "要接入 Telegram：在 Telegram 里找 @BotFather，发 /newbot 按提示建一个机器人，"
    "把它给的 token 设为环境变量 TELEGRAM_BOT_TOKEN 后再运行 policybot run。\n"
)
DEFAULT_SERVE_PORT = 8080
# How `serve --workers N` tells its worker processes the public webhook URL.
WEBHOOK_ENV = "POLICYBOT_SERVE_WEBHOOK"
# uvicorn's own loggers reach our handler (and its scrubber); X-Forwarded-For is read by the web
# chat, from its configured proxies only.
UVICORN_OPTIONS: dict[str, Any] = {
    "log_level": "warning",
    "access_log": False,
    "log_config": None,
    "proxy_headers": False,
}


def settle_heap() -> None:
    """Move what start-up built (the index, the dictionaries: ~200,000 objects) out of the
    collector's reach: a full collection walking them took ~70 ms, a pause every message in
    flight waited for (p99 under load, scripts/bench_framework.py). They live as long as the
    process; what is built later (a curator's new index) is collected as usual."""
    gc.collect()
    gc.freeze()


def serve(app: App, *, host: str, port: int | None, webhook: str | None) -> int:
    """The shared server under uvicorn, every configured channel mounted."""
    import uvicorn

    from bot.cli.http_protocol import NoDelayH11Protocol
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
    settle_heap()
    uvicorn.run(
        build_server(app, channels),
        host=host,
        port=port,
        http=NoDelayH11Protocol,
        **UVICORN_OPTIONS,
    )
    return 0


def serve_workers(
    settings: Settings,
    *,
    config: Path | None,
    host: str,
    port: int,
    webhook: str | None,
    workers: int,
) -> int:
    """`workers` server processes on one socket, under uvicorn's supervisor (a worker that dies is
    replaced). The schema and the library are made ready here first, so the workers never race to
    upgrade SQLite or import the documents; they share everything else through the database."""
    import uvicorn

    from bot.cli.http_protocol import NoDelayH11Protocol

    engine = prepare_engine(settings)
    try:
        import_knowledge(settings, engine)
    finally:
        engine.dispose()
    # Spawned workers read the same settings: the environment they inherit, the same file.
    if config is not None:
        os.environ[CONFIG_PATH_ENV] = str(config.resolve())
    if webhook is not None:
        os.environ[WEBHOOK_ENV] = webhook
    uvicorn.run(
        f"{__name__}:worker_server",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        http=NoDelayH11Protocol,
        **UVICORN_OPTIONS,
    )
    return 0


def worker_server() -> Starlette:
    """One worker process's server (uvicorn calls this in each process `serve --workers` starts)."""
    from bot.server import build_server

    settings = load_settings()
    configure_logging(settings.logging.level, as_json=settings.logging.as_json)
    app = build_app(settings)
    server = build_server(app, app.served(webhook_url=os.environ.get(WEBHOOK_ENV) or None))
    settle_heap()
    return server


def command_serve(settings: Settings, args: argparse.Namespace) -> int:
    if args.workers > 1:
        return serve_workers(
            settings,
            config=args.config,
            host=args.host,
            port=args.port,
            webhook=args.webhook,
            workers=args.workers,
        )
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
    settle_heap()
    runner(RunOptions(args.listen, args.port, housekeeping=lambda: app.housekeeping(channels)))
    return 0


def worker_count(value: str) -> int:
    count = int(value)
    if count < 1:
        raise argparse.ArgumentTypeError("至少 1 个进程")
    return count


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
    serve.add_argument(
        "--workers",
        type=worker_count,
        default=1,
        help="服务器进程数（共用一个端口和数据库；限流要在进程间共享需要设置 [redis] url）",
    )
    serve.set_defaults(handler=command_serve)
