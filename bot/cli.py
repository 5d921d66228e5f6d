"""The `policybot` command: run the bot, ask, chat, evaluate, and manage the knowledge base."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import sys
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from sqlalchemy import Engine
from sqlmodel import Session

from bot.campaign_cli import add_campaign_commands
from bot.database import create_engine_for, init_db
from bot.evaluation import EvalFileError, evaluate, format_report, read_items
from bot.events import configure_logging
from bot.knowledge_base import import_source, import_startup_sources
from bot.models import LegalAidCase
from bot.outbox import OutboxSender
from bot.repositories.cases import get_case_by_number, list_cases, view_of
from bot.repositories.documents import list_documents
from bot.runtime import Runtime, build_runtime, enforce_retention, prepare_engine
from bot.runtime import prepare_matcher as runtime_matcher
from bot.settings import Settings, SettingsError, load_settings
from bot.terminal import chat
from handlers.answers import Answer
from handlers.cases import BEIJING, CATEGORIES
from handlers.casework import staff_card
from handlers.phone import masked
from handlers.questions import answer_question
from knowledge.citation import citation, clause_label
from knowledge.curation import CurationError
from knowledge.document import Document, ParseError
from knowledge.match import Matcher
from knowledge.parser import parse_file

if TYPE_CHECKING:
    from telegram.ext import ExtBot

    from bot.server import TelegramRoute
    from bot.telegram_channel import TelegramDeps

EXIT_BAD_INPUT = 1
EXIT_BAD_CONFIG = 2
NO_TOKEN_NOTICE = (
    "没有设置 TELEGRAM_BOT_TOKEN，先开网页聊天（终端里聊天用 policybot chat）。\n"
    "要接入 Telegram：在 Telegram 里找 @BotFather，发 /newbot 按提示建一个机器人，"
    "把它给的 token 设为环境变量 TELEGRAM_BOT_TOKEN 后再运行 policybot run。\n"
)
DEFAULT_SERVE_PORT = 8080
DEFAULT_WEBHOOK_PORT = 8443
WEBHOOK_SECRET_MISSING = (
    "webhook 模式需要密钥：请设置 POLICYBOT_TELEGRAM__WEBHOOK_SECRET"
    "（1–256 个字符，A–Z a–z 0–9 _ -）。\n"
)


def document_as_json(document: Document) -> dict[str, Any]:
    """The `kb parse --json` shape."""
    return {
        "title": document.title,
        "meta": dict(document.meta),
        "clauses": [
            {
                "id": clause.id,
                "kind": clause.kind,
                "title": clause.title,
                "text": clause.text,
                "departments": list(clause.departments),
                "parent": clause.parent,
            }
            for clause in document.clauses
        ],
    }


def prepare_matcher(settings: Settings) -> Matcher:
    """What the answering commands need: the database ready and the index built."""
    return runtime_matcher(settings, prepare_engine(settings))


def answer_text(matcher: Matcher, question: str) -> tuple[str, Answer]:
    """The answer in the asker's script: Traditional in, Traditional out."""
    answer, result, _record = answer_question(matcher, question)
    text = matcher.converter.to_traditional(answer.text) if result.is_traditional else answer.text
    return text, answer


def answer_as_json(matcher: Matcher, question: str) -> dict[str, Any]:
    text, answer = answer_text(matcher, question)
    return {
        "answer": text,
        "topic": answer.topic,
        "sources": [
            {"doc": s.document, "clause": s.clause, "title": s.title, "score": s.score}
            for s in answer.sources
        ],
        "handoff": answer.handoff,
        "fallback": answer.fallback,
    }


def command_ask(settings: Settings, args: argparse.Namespace) -> int:
    matcher = prepare_matcher(settings)
    questions: list[str] = [args.question] if args.question != "-" else []
    lines = sys.stdin if args.question == "-" else questions
    for question in lines:
        question = question.rstrip("\n")
        if args.json:
            print(json.dumps(answer_as_json(matcher, question), ensure_ascii=False), flush=True)
            continue
        print(answer_text(matcher, question)[0], flush=True)
    return 0


def command_chat(settings: Settings, _args: argparse.Namespace) -> int:
    runtime = build_runtime(settings)
    asyncio.run(chat(runtime.dialogue))
    return 0


def command_serve(settings: Settings, args: argparse.Namespace) -> int:
    """The one ASGI server: web chat, WeChat (with a token), Telegram's webhook (with --webhook)."""
    import uvicorn

    from bot.server import build_app

    token = settings.telegram.token
    webhook = getattr(args, "webhook", None)
    if webhook and token is not None and settings.telegram.webhook_secret is None:
        sys.stderr.write(WEBHOOK_SECRET_MISSING)
        return EXIT_BAD_CONFIG
    runtime = build_runtime(settings)
    telegram: TelegramRoute | None = None
    if webhook and token is not None and settings.telegram.webhook_secret is not None:
        telegram = telegram_route(
            settings, runtime, webhook, token.get_secret_value(),
            settings.telegram.webhook_secret.get_secret_value(),
        )  # fmt: skip
    app = build_app(
        settings,
        dialogue=runtime.dialogue,
        user_keys=runtime.user_keys,
        engine=runtime.engine,
        converter=runtime.matcher.converter,
        telegram=telegram,
        housekeeping=lambda: enforce_retention(settings, runtime.engine),
    )
    port = args.port if args.port is not None else DEFAULT_SERVE_PORT
    sys.stderr.write(f"网页聊天：在浏览器打开 http://{args.host}:{port}/chat\n")
    if settings.wechat.token is not None:
        sys.stderr.write(f"公众号回调地址：http://{args.host}:{port}/wechat\n")
    uvicorn.run(app, host=args.host, port=port, log_level="warning", access_log=False)
    return 0


def telegram_route(
    settings: Settings, runtime: Runtime, webhook: str, token: str, secret: str
) -> TelegramRoute:
    """Telegram's webhook as a route of the shared server (same event loop as the other channels)."""
    from urllib.parse import urlsplit

    from bot.server import TelegramRoute
    from bot.telegram_channel import (
        build_application,
        start_webhook_application,
        stop_webhook_application,
        webhook_endpoint,
    )

    application = build_application(
        token=token,
        base_url=settings.telegram.base_url,
        base_file_url=settings.telegram.base_file_url,
        # The server runs the upkeep itself; the bot keeps its outbox sender.
        deps=telegram_deps(settings, runtime, housekeeping=None),
        connect_timeout=settings.telegram.connect_timeout,
        read_timeout=settings.telegram.read_timeout,
    )
    return TelegramRoute(
        path=urlsplit(webhook).path or "/telegram",
        endpoint=webhook_endpoint(application, secret),
        start=lambda: start_webhook_application(application, webhook, secret),
        stop=lambda: stop_webhook_application(application),
    )


def telegram_deps(
    settings: Settings,
    runtime: Runtime,
    *,
    housekeeping: Callable[[], Coroutine[Any, Any, None]] | None,
) -> TelegramDeps:
    """What the Telegram callbacks need: the outbox sender for Telegram notices, broadcasts."""
    from bot.broadcasts import ChatBroadcasts, SendLimits
    from bot.telegram_channel import TelegramDeps
    from bot.telegram_outbox import TelegramOutboxTransport

    async def send_outbox(bot: ExtBot[Any]) -> None:
        sender = OutboxSender(
            runtime.engine,
            TelegramOutboxTransport(bot),
            to_traditional=runtime.matcher.converter.to_traditional,
            wakeup=runtime.outbox_wakeup,
        )
        await sender.run()

    chat_broadcasts = ChatBroadcasts(
        runtime.engine,
        SendLimits(
            messages_per_second=settings.broadcast.messages_per_second,
            per_chat_seconds=settings.broadcast.per_chat_seconds,
            max_attempts=settings.broadcast.max_attempts,
        ),
        settings.telegram.admin_user_ids,
    )
    return TelegramDeps(
        runtime.dialogue,
        runtime.user_keys,
        housekeeping,
        chat_broadcasts,
        casework=runtime.casework,
        staff_chat_id=settings.legal_aid.staff_chat_id,
        outbox=send_outbox,
    )


def command_wechat_menu(_settings: Settings, args: argparse.Namespace) -> int:
    from bot.wechat.menu import custom_menu

    print(json.dumps(custom_menu(), ensure_ascii=False, indent=None if args.json else 2))
    return 0


def command_run(settings: Settings, args: argparse.Namespace) -> int:
    token = settings.telegram.token
    if token is None:
        sys.stderr.write(NO_TOKEN_NOTICE)
        args.host = args.listen
        return command_serve(settings, args)
    if args.webhook and settings.telegram.webhook_secret is None:
        sys.stderr.write(WEBHOOK_SECRET_MISSING)
        return EXIT_BAD_CONFIG
    # Imported here: python-telegram-bot costs memory and start-up time the other commands don't need.
    from bot.telegram_channel import run_telegram

    runtime = build_runtime(settings)

    async def housekeeping() -> None:
        await asyncio.to_thread(enforce_retention, settings, runtime.engine)

    deps = telegram_deps(settings, runtime, housekeeping=housekeeping)
    run_telegram(
        settings.telegram,
        deps,
        token=token.get_secret_value(),
        webhook_url=args.webhook,
        listen=args.listen,
        port=args.port if args.port is not None else DEFAULT_WEBHOOK_PORT,
    )
    return 0


def command_eval(settings: Settings, args: argparse.Namespace) -> int:
    try:
        items = read_items(Path(args.file))
    except EvalFileError as error:
        sys.stderr.write(f"{error}\n")
        return EXIT_BAD_INPUT
    matcher = prepare_matcher(settings)
    report = evaluate(matcher, items, baseline=args.baseline)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(format_report(report))
    return 0


def command_kb_parse(_settings: Settings, args: argparse.Namespace) -> int:
    document = parse_file(Path(args.file))
    if args.json:
        print(json.dumps(document_as_json(document), ensure_ascii=False, indent=2))
        return 0
    print(document.title)
    for key, value in document.meta.items():
        print(f"  {key}: {value}")
    for clause in document.clauses:
        departments = f"  [{'、'.join(clause.departments)}]" if clause.departments else ""
        print(f"{clause.id:>8}  {clause.kind:<8} {clause.title}{departments}")
    return 0


def command_kb_import(settings: Settings, args: argparse.Namespace) -> int:
    engine = create_engine_for(settings.database.url, echo=settings.database.echo)
    init_db(engine)
    with Session(engine) as session:
        report = import_source(Path(args.file), session=session)
    print(
        f"{report.outcome}: {report.document.key} 《{report.document.title}》 "
        f"{len(report.document.clauses)} 条，其中 {report.curated} 条有通俗解释"
    )
    return 0


def command_kb_list(settings: Settings, _args: argparse.Namespace) -> int:
    engine = create_engine_for(settings.database.url, echo=settings.database.echo)
    init_db(engine)
    import_startup_sources(engine, list(settings.knowledge.extra_sources))
    with Session(engine) as session:
        documents = list_documents(session=session)
    for summary in documents:
        print(
            f"{summary.key}  《{summary.title}》  {summary.clause_count} 条  "
            f"通俗解释 {summary.curated_count} 条  更新于 {summary.updated_at:%Y-%m-%d %H:%M}"
        )
    return 0


def command_kb_show(settings: Settings, args: argparse.Namespace) -> int:
    matcher = prepare_matcher(settings)
    entries = [
        e
        for e in matcher.entries
        if e.clause.id == args.clause and args.doc in (None, e.document_key)
    ]
    if not entries:
        sys.stderr.write(f"没有条款 {args.clause}\n")
        return EXIT_BAD_INPUT
    for entry in entries:
        clause = entry.clause
        print(f"{citation(entry.short_title, clause.id)}  [{entry.document_key}]")
        print(f"{clause_label(clause.id)} {clause.title}  ({clause.kind}, parent {clause.parent})")
        if clause.departments:
            print("牵头部门：" + "、".join(clause.departments))
        print(clause.text)
        if entry.curated is not None:
            print("\n通俗解释：")
            for key, value in asdict(entry.curated).items():
                print(f"  {key}: {value}")
    return 0


CASE_STATUS_LABELS = {"pending": "待接单", "claimed": "已接单", "closed": "已结案"}
CSV_FIELDS = (
    "number", "created_at", "category", "district", "phone", "employer", "description", "status",
    "claimed_by", "claimed_at", "closed_by", "closed_at", "outcome", "notes", "source",
    "consent_at", "consent_version", "anonymised",
)  # fmt: skip


def _beijing_time(moment: datetime | None) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if moment else ""


def _case_engine(settings: Settings) -> Engine:
    engine = create_engine_for(settings.database.url, echo=settings.database.echo)
    init_db(engine)
    return engine


def command_cases_list(settings: Settings, args: argparse.Namespace) -> int:
    with Session(_case_engine(settings)) as session:
        records = list_cases(session=session, status=args.status)
    for record in records:
        print(
            f"{record.number}  {CATEGORIES.get(record.category, record.category)}  "
            f"{record.district}  {masked(record.phone)}  "
            f"{CASE_STATUS_LABELS.get(record.status, record.status)}"
            f"{'（' + record.claimed_by + '）' if record.claimed_by else ''}  "
            f"{_beijing_time(record.created_at)}"
        )
    if not records:
        print("没有转介记录。")
    return 0


def command_cases_show(settings: Settings, args: argparse.Namespace) -> int:
    with Session(_case_engine(settings)) as session:
        record = get_case_by_number(args.number, session=session)
    if record is None:
        sys.stderr.write(f"没有案件 {args.number}\n")
        return EXIT_BAD_INPUT
    print(staff_card(view_of(record)).text)
    print(f"同意隐私说明：{_beijing_time(record.consent_at)}（版本 {record.consent_version}）")
    if record.source:
        print(f"来源：{record.source}")
    if record.anonymised_at:
        print(f"个人信息已删除：{_beijing_time(record.anonymised_at)}")
    return 0


def _csv_row(record: LegalAidCase, *, full_phone: bool) -> tuple[str, ...]:
    phone = record.phone if full_phone else masked(record.phone) if record.phone else ""
    return (
        record.number, _beijing_time(record.created_at),
        CATEGORIES.get(record.category, record.category), record.district, phone or "",
        record.employer or "", record.description or "",
        CASE_STATUS_LABELS.get(record.status, record.status), record.claimed_by or "",
        _beijing_time(record.claimed_at), record.closed_by or "",
        _beijing_time(record.closed_at), record.outcome or "",
        " | ".join(f"{n['author']}: {n['text']}" for n in record.notes),
        record.source or "", _beijing_time(record.consent_at), record.consent_version,
        "yes" if record.anonymised_at else "",
    )  # fmt: skip


def command_cases_export(settings: Settings, args: argparse.Namespace) -> int:
    with Session(_case_engine(settings)) as session:
        records = list_cases(session=session, status=args.status)
    with contextlib.ExitStack() as stack:
        output: TextIO = (
            stack.enter_context(open(args.out, "w", encoding="utf-8-sig", newline=""))
            if args.out
            else sys.stdout
        )
        writer = csv.writer(output)
        writer.writerow(CSV_FIELDS)
        for record in records:
            writer.writerow(_csv_row(record, full_phone=args.full_phone))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="policybot", description="天津农民工政策问答机器人")
    parser.add_argument("--config", type=Path, help="config.toml 路径（默认 ./config.toml）")
    commands = parser.add_subparsers(dest="command", required=True)

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

    wechat = commands.add_parser("wechat", help="微信公众号").add_subparsers(
        dest="wechat_command", required=True
    )
    menu = wechat.add_parser("menu", help="打印自定义菜单（上传到公众号）")
    menu.add_argument("--json", action="store_true", help="一行 JSON")
    menu.set_defaults(handler=command_wechat_menu)

    commands.add_parser("chat", help="在终端里聊天").set_defaults(handler=command_chat)

    ask = commands.add_parser("ask", help="问一个问题；'-' 从标准输入逐行读")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true")
    ask.set_defaults(handler=command_ask)

    evaluation = commands.add_parser("eval", help="用问题集评测匹配")
    evaluation.add_argument("file")
    evaluation.add_argument("--json", action="store_true")
    evaluation.add_argument("--baseline", choices=["bm25"])
    evaluation.set_defaults(handler=command_eval)

    kb = commands.add_parser("kb", help="知识库").add_subparsers(dest="kb_command", required=True)
    parse = kb.add_parser("parse", help="解析政策文本")
    parse.add_argument("file")
    parse.add_argument("--json", action="store_true")
    parse.set_defaults(handler=command_kb_parse)
    kb_import = kb.add_parser("import", help="导入政策文本（可重复执行）")
    kb_import.add_argument("file")
    kb_import.set_defaults(handler=command_kb_import)
    kb.add_parser("list", help="列出已导入的文件").set_defaults(handler=command_kb_list)
    show = kb.add_parser("show", help="显示一条条款，例如 2.3.3")
    show.add_argument("clause")
    show.add_argument("--doc", help="文件 key（有多个文件时）")
    show.set_defaults(handler=command_kb_show)

    cases = commands.add_parser("cases", help="法律援助转介记录").add_subparsers(
        dest="cases_command", required=True
    )
    cases_list = cases.add_parser("list", help="列出转介（电话打码）")
    cases_list.add_argument("--status", choices=sorted(CASE_STATUS_LABELS))
    cases_list.set_defaults(handler=command_cases_list)
    cases_show = cases.add_parser("show", help="显示一件转介，例如 LA-20270115-0007")
    cases_show.add_argument("number")
    cases_show.set_defaults(handler=command_cases_show)
    export = cases.add_parser("export", help="导出转介记录")
    export.add_argument(
        "--csv", action="store_true", required=True, help="CSV 格式（Excel 可打开）"
    )
    export.add_argument("--out", type=Path, help="写入文件（默认打印到屏幕）")
    export.add_argument("--status", choices=sorted(CASE_STATUS_LABELS))
    export.add_argument("--full-phone", action="store_true", help="导出完整电话号码（默认打码）")
    export.set_defaults(handler=command_cases_export)

    add_campaign_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except SettingsError as error:
        sys.stderr.write(f"{error}\n")
        return EXIT_BAD_CONFIG
    configure_logging(settings.logging.level, as_json=settings.logging.as_json)
    handler: Callable[[Settings, argparse.Namespace], int] = args.handler
    try:
        return handler(settings, args)
    except (ParseError, CurationError) as error:
        sys.stderr.write(f"{error}\n")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
