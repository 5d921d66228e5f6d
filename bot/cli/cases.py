"""`policybot cases …`: list, show and export the legal-aid referrals (phones masked unless
asked)."""

from __future__ import annotations

import argparse
import contextlib
import sys
from datetime import datetime
from pathlib import Path
from typing import TextIO

from sqlmodel import Session

from bot.app import prepare_engine
from bot.cli.command import EXIT_BAD_INPUT, Subcommands
from bot.settings import Settings
from bot.spreadsheet import write_csv
from bot.storage.case_desk import case_view
from bot.storage.models import LegalAidCase
from bot.storage.repositories.cases import get_case_by_number, list_cases
from handlers.cases import BEIJING, CATEGORIES
from handlers.casework import staff_card
from handlers.phone import masked

CASE_STATUS_LABELS = {"pending": "待接单", "claimed": "已接单", "closed": "已结案"}
CSV_FIELDS = (
    "number", "created_at", "category", "district", "phone", "employer", "description", "status",
    "claimed_by", "claimed_at", "closed_by", "closed_at", "outcome", "notes", "source",
    "consent_at", "consent_version", "anonymised",
)  # fmt: skip


def _beijing_time(moment: datetime | None) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if moment else ""


def command_cases_list(settings: Settings, args: argparse.Namespace) -> int:
    with Session(prepare_engine(settings)) as session:
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
    with Session(prepare_engine(settings)) as session:
        record = get_case_by_number(args.number, session=session)
    if record is None:
        sys.stderr.write(f"没有案件 {args.number}\n")
        return EXIT_BAD_INPUT
    print(staff_card(case_view(record)).text)
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
    with Session(prepare_engine(settings)) as session:
        records = list_cases(session=session, status=args.status)
    with contextlib.ExitStack() as stack:
        output: TextIO = (
            stack.enter_context(open(args.out, "w", encoding="utf-8-sig", newline=""))
            if args.out
            else sys.stdout
        )
        write_csv(output, CSV_FIELDS, (_csv_row(r, full_phone=args.full_phone) for r in records))
    return 0


def add_commands(commands: Subcommands) -> None:
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
