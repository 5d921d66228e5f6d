"""`policybot ask`, `chat` and `eval`: answers in the terminal, one question or a conversation,
and the matcher measured on a question set."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from bot.app import build_app, prepare_engine
from bot.app import prepare_matcher as index_on
from bot.channels.terminal.chat import chat
from bot.cli.command import EXIT_BAD_INPUT, Subcommands
from bot.evaluation import PLAN_KEY, EvalFileError, evaluate, format_report, read_items
from bot.knowledge_base import build_matcher, import_startup_sources
from bot.settings import Settings
from handlers.answers import Answer
from handlers.questions import answer_question
from knowledge.match import Matcher


def prepare_matcher(settings: Settings) -> Matcher:
    """What the answering commands need: the database ready and the index built."""
    return index_on(settings, prepare_engine(settings))


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
    app = build_app(settings)
    app.upkeep()  # the housekeeping round once, as every start runs it
    asyncio.run(chat(app.dialogue))
    return 0


def command_eval(settings: Settings, args: argparse.Namespace) -> int:
    try:
        items = read_items(Path(args.file))
    except EvalFileError as error:
        sys.stderr.write(f"{error}\n")
        return EXIT_BAD_INPUT
    if args.without_curation:
        engine = prepare_engine(settings)
        import_startup_sources(engine, list(settings.knowledge.extra_sources))
        matcher = build_matcher(engine, curated=frozenset({PLAN_KEY}))
    else:
        matcher = prepare_matcher(settings)
    report = evaluate(matcher, items, baseline=args.baseline)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(format_report(report))
    return 0


def add_commands(commands: Subcommands) -> None:
    commands.add_parser("chat", help="在终端里聊天").set_defaults(handler=command_chat)

    ask = commands.add_parser("ask", help="问一个问题；'-' 从标准输入逐行读")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true")
    ask.set_defaults(handler=command_ask)

    evaluation = commands.add_parser("eval", help="用问题集评测匹配")
    evaluation.add_argument("file")
    evaluation.add_argument("--json", action="store_true")
    evaluation.add_argument(
        "--without-curation",
        action="store_true",
        help="只保留《实施方案》的通俗解释，看没人整理过的法律答得怎样",
    )
    evaluation.add_argument("--baseline", choices=["bm25"])
    evaluation.set_defaults(handler=command_eval)
