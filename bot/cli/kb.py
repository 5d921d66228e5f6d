"""`policybot kb …`: parse, import, list and show the policy documents; write the curators'
additions from the console into the curated data files."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlmodel import Session

from bot.app import prepare_engine
from bot.app import prepare_matcher as index_on
from bot.cli.command import EXIT_BAD_INPUT, Subcommands
from bot.curation_export import export_additions
from bot.knowledge_base import import_source, import_startup_sources
from bot.settings import Settings
from bot.storage.engine import run_transaction
from bot.storage.repositories.documents import list_documents
from bot.storage.repositories.knowledge_additions import list_additions, mark_exported
from knowledge.citation import citation, clause_label
from knowledge.document import Document
from knowledge.lexicon import bundled_data_path
from knowledge.parser import parse_file


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
    engine = prepare_engine(settings)
    with Session(engine) as session:
        report = import_source(Path(args.file), session=session)
    print(
        f"{report.outcome}: {report.document.key} 《{report.document.title}》 "
        f"{len(report.document.clauses)} 条，其中 {report.curated} 条有通俗解释"
    )
    return 0


def command_kb_list(settings: Settings, _args: argparse.Namespace) -> int:
    engine = prepare_engine(settings)
    import_startup_sources(engine, list(settings.knowledge.extra_sources))
    with Session(engine) as session:
        documents = list_documents(session=session)
    for summary in documents:
        version = f"版本 {summary.version}  " if summary.version else ""
        print(
            f"{summary.key}  《{summary.title}》  {version}{summary.clause_count} 条  "
            f"通俗解释 {summary.curated_count} 条  导入于 {summary.updated_at:%Y-%m-%d %H:%M}"
        )
    return 0


def command_kb_show(settings: Settings, args: argparse.Namespace) -> int:
    matcher = index_on(settings, prepare_engine(settings))
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


def command_kb_export_additions(settings: Settings, args: argparse.Namespace) -> int:
    engine = prepare_engine(settings)
    with Session(engine) as session:
        additions = list_additions(session=session, unexported_only=not args.all)
    report = export_additions(
        additions,
        data_dir=args.data_dir or bundled_data_path(""),
        extra_sources=settings.knowledge.extra_sources,
        dry_run=args.dry_run,
    )
    for path, ids in report.written.items():
        print(f"{path}：{len(ids)} 条")
    for line in report.skipped:
        sys.stderr.write(line + "\n")
    if not args.dry_run:
        run_transaction(engine, lambda s: mark_exported(report.exported_ids, session=s))
    if not report.written and not report.skipped:
        print("没有要写出的新增说法或同义词。")
    return EXIT_BAD_INPUT if report.skipped else 0


def add_commands(commands: Subcommands) -> None:
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
    export = kb.add_parser(
        "export-additions", help="把工作台里新增的说法和同义词写进白话说明文件（便于提交）"
    )
    export.add_argument("--data-dir", type=Path, help="数据目录（默认：程序自带的 knowledge/data）")
    export.add_argument("--all", action="store_true", help="连已经写出过的也再写一遍")
    export.add_argument("--dry-run", action="store_true", help="只显示会写哪些文件，不写")
    export.set_defaults(handler=command_kb_export_additions)
