"""`policybot jobs …`: import postings from a spreadsheet, list, show and expire them, figures."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlmodel import Session

from bot.app import prepare_engine
from bot.campaigns.job_sheet import check_sheet, read_cells
from bot.campaigns.job_stats import JobFigures, job_figures
from bot.cli.command import EXIT_BAD_INPUT, Subcommands
from bot.settings import Settings
from bot.storage.engine import run_transaction
from bot.storage.job_board import view_of
from bot.storage.job_models import JobPostingRecord
from bot.storage.models import utc_now
from bot.storage.repositories import job_postings
from handlers.campaigns import today_in_tianjin
from handlers.job_board import pay_text, posting_detail
from knowledge.jobs import load_job_tables


def command_jobs_import(settings: Settings, args: argparse.Namespace) -> int:
    path: Path = args.file
    try:
        lines = read_cells(path)
    except (OSError, ValueError) as error:
        sys.stderr.write(f"读不了 {path}：{error}\n")
        return EXIT_BAD_INPUT
    result = check_sheet(lines, load_job_tables())
    if result.problems:
        for problem in result.problems:
            sys.stderr.write(f"第{problem.line}行：{problem.reason}\n")
        sys.stderr.write(f"有 {len(result.problems)} 行不对，整个文件都没有导入。\n")
        return EXIT_BAD_INPUT
    counts = run_transaction(
        prepare_engine(settings),
        lambda s: job_postings.upsert_postings(result.rows, file_name=path.name, session=s),
    )
    print(
        f"导入 {path.name}：新增 {counts.created}，更新 {counts.updated}，未变 {counts.unchanged}。"
    )
    return 0


def _state(record: JobPostingRecord) -> str:
    if record.hidden_at is not None:
        return "已下架"
    if record.expired_at is not None or record.valid_until < today_in_tianjin():
        return "已过期"
    return "有效"


def command_jobs_list(settings: Settings, args: argparse.Namespace) -> int:
    today = today_in_tianjin()
    with Session(prepare_engine(settings)) as session:
        records = job_postings.all_postings(session=session)
    shown = [r for r in records if args.all or job_postings.is_live(r, today)]
    for record in shown:
        print(
            f"{record.code}  {record.title}  {record.employer}  {record.district}  "
            f"{pay_text(view_of(record))}  至{record.valid_until.isoformat()}  {_state(record)}"
        )
    if not shown:
        print("没有有效的岗位。" if not args.all else "还没有导入岗位。")
    return 0


def command_jobs_show(settings: Settings, args: argparse.Namespace) -> int:
    with Session(prepare_engine(settings)) as session:
        record = job_postings.posting_by_code(args.code, session=session)
    if record is None:
        sys.stderr.write(f"没有岗位 {args.code}\n")
        return EXIT_BAD_INPUT
    print(f"{record.code}（{_state(record)}，文件 {record.import_file}）")
    print(posting_detail(view_of(record)).text)
    return 0


def command_jobs_expire(settings: Settings, args: argparse.Namespace) -> int:
    found = run_transaction(
        prepare_engine(settings), lambda s: job_postings.expire(args.code, session=s)
    )
    if not found:
        sys.stderr.write(f"没有岗位 {args.code}\n")
        return EXIT_BAD_INPUT
    print(f"{args.code} 已过期，不再给任何人看。")
    return 0


def print_figures(figures: JobFigures, days: int) -> None:
    print(f"岗位：导入 {figures.imported}，有效 {figures.live}")
    print(f"设置了推送条件的人：{figures.preferences}")
    print(
        f"近{days}天：推送 {figures.digests_sent} 次，岗位被打开 {figures.opened} 次，举报 {figures.reported} 次"
    )
    for title, table in (("区", figures.by_district), ("工种", figures.by_trade)):
        print(f"\n{title}\t有效岗位\t想去的人\t打开")
        for name, (live, wanted, opened) in table.items():
            print(f"{name}\t{live}\t{wanted}\t{opened}")


def command_jobs_stats(settings: Settings, args: argparse.Namespace) -> int:
    with Session(prepare_engine(settings)) as session:
        figures = job_figures(utc_now(), days=args.days, session=session)
    print_figures(figures, args.days)
    return 0


def add_commands(commands: Subcommands) -> None:
    jobs = commands.add_parser("jobs", help="招聘岗位：导入、查看、过期、统计")
    actions = jobs.add_subparsers(dest="jobs_command", required=True)
    imported = actions.add_parser("import", help="从 .xlsx 或 .csv 导入岗位（有错行就整个不导入）")
    imported.add_argument("file", type=Path)
    imported.set_defaults(handler=command_jobs_import)
    listed = actions.add_parser("list", help="有效的岗位")
    listed.add_argument("--all", action="store_true", help="也列出过期和下架的")
    listed.set_defaults(handler=command_jobs_list)
    shown = actions.add_parser("show", help="一个岗位的全部内容")
    shown.add_argument("code")
    shown.set_defaults(handler=command_jobs_show)
    expired = actions.add_parser("expire", help="让一个岗位马上过期")
    expired.add_argument("code")
    expired.set_defaults(handler=command_jobs_expire)
    stats = actions.add_parser("stats", help="岗位、推送条件、推送和打开次数，按区和工种")
    stats.add_argument("--days", type=int, default=30)
    stats.set_defaults(handler=command_jobs_stats)
