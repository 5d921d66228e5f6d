"""`policybot staff …`: the console's accounts — add (asks for the password twice, or reads it
from standard input with --password-stdin), list, disable, enable, reset a password."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable

from sqlmodel import Session

from bot.app import prepare_engine
from bot.cli.command import EXIT_BAD_INPUT, Subcommands
from bot.console.passwords import PasswordRuleError, Passwords, check_password_rules
from bot.console.roles import ROLE_LABELS, Role
from bot.settings import Settings
from bot.storage.engine import run_transaction
from bot.storage.repositories import staff as staff_rows
from bot.storage.repositories.staff import StaffError
from handlers.cases import BEIJING

MAX_NAME_CHARS = 64


class PasswordInputError(Exception):
    """The password could not be read (mismatch, rules, no input); the message says why."""


def read_password(args: argparse.Namespace, *, prompt: str = "密码：") -> str:
    """From standard input's first line with --password-stdin, else typed twice at a prompt."""
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(prompt)
        if getpass.getpass("再输一遍：") != password:
            raise PasswordInputError("两次输入的密码不一样")
    try:
        check_password_rules(password)
    except PasswordRuleError as error:
        raise PasswordInputError(str(error)) from None
    return password


def _run(settings: Settings, work: Callable[[Session], str]) -> int:
    try:
        message = run_transaction(prepare_engine(settings), work)
    except (StaffError, PasswordInputError) as error:
        sys.stderr.write(f"{error}\n")
        return EXIT_BAD_INPUT
    print(message)
    return 0


def _valid_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned or len(cleaned) > MAX_NAME_CHARS or any(c.isspace() for c in cleaned):
        raise argparse.ArgumentTypeError(f"用户名要 1–{MAX_NAME_CHARS} 个字符，不含空格")
    return cleaned


def command_add(settings: Settings, args: argparse.Namespace) -> int:
    try:
        password_hash = Passwords().hash(read_password(args))
    except PasswordInputError as error:
        sys.stderr.write(f"{error}\n")
        return EXIT_BAD_INPUT
    role = Role(args.role)

    def work(session: Session) -> str:
        staff_rows.add_account(args.name, role.value, password_hash, session=session)
        return f"已添加 {args.name}（{ROLE_LABELS[role]}）。"

    return _run(settings, work)


def command_list(settings: Settings, _args: argparse.Namespace) -> int:
    with Session(prepare_engine(settings)) as session:
        accounts = staff_rows.list_accounts(session=session)
    for account in accounts:
        last = account.last_login_at
        seen = last.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if last else "从未登录"
        state = "已停用" if account.disabled else "可用"
        print(f"{account.name}  {ROLE_LABELS[Role(account.role)]}  {state}  最近登录：{seen}")
    if not accounts:
        print("还没有账号。先建管理员：policybot staff add NAME --role admin")
    return 0


def command_disable(settings: Settings, args: argparse.Namespace) -> int:
    def work(session: Session) -> str:
        staff_rows.set_disabled(args.name, True, session=session)
        return f"已停用 {args.name}，它在所有设备上的登录已退出。"

    return _run(settings, work)


def command_enable(settings: Settings, args: argparse.Namespace) -> int:
    def work(session: Session) -> str:
        staff_rows.set_disabled(args.name, False, session=session)
        return f"已恢复 {args.name}。"

    return _run(settings, work)


def command_reset(settings: Settings, args: argparse.Namespace) -> int:
    try:
        password_hash = Passwords().hash(read_password(args, prompt="新密码："))
    except PasswordInputError as error:
        sys.stderr.write(f"{error}\n")
        return EXIT_BAD_INPUT

    def work(session: Session) -> str:
        staff_rows.set_password(args.name, password_hash, session=session)
        staff_rows.clear_failed_logins(args.name, session=session)
        return f"已重设 {args.name} 的密码，原来的登录都已退出。"

    return _run(settings, work)


def add_commands(commands: Subcommands) -> None:
    staff = commands.add_parser("staff", help="工作台账号").add_subparsers(
        dest="staff_command", required=True
    )
    add = staff.add_parser("add", help="添加账号（会两次询问密码）")
    add.add_argument("name", type=_valid_name)
    add.add_argument("--role", required=True, choices=[role.value for role in Role])
    add.add_argument("--password-stdin", action="store_true", help="从标准输入读密码（脚本用）")
    add.set_defaults(handler=command_add)
    listing = staff.add_parser("list", help="列出账号")
    listing.set_defaults(handler=command_list)
    for name, help_text, handler in (
        ("disable", "停用账号（并退出它的所有登录）", command_disable),
        ("enable", "恢复停用的账号", command_enable),
    ):
        parser = staff.add_parser(name, help=help_text)
        parser.add_argument("name")
        parser.set_defaults(handler=handler)
    reset = staff.add_parser("reset", help="重设密码（并退出它的所有登录）")
    reset.add_argument("name")
    reset.add_argument("--password-stdin", action="store_true", help="从标准输入读新密码")
    reset.set_defaults(handler=command_reset)
