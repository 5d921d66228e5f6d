"""`policybot wechat …`: what the Official Account needs uploading (the custom menu)."""

from __future__ import annotations

import argparse
import json

from bot.cli.command import Subcommands
from bot.settings import Settings


def command_wechat_menu(_settings: Settings, args: argparse.Namespace) -> int:
    from bot.channels.wechat.menu import custom_menu

    print(json.dumps(custom_menu(), ensure_ascii=False, indent=None if args.json else 2))
    return 0


def add_commands(commands: Subcommands) -> None:
    wechat = commands.add_parser("wechat", help="微信公众号").add_subparsers(
        dest="wechat_command", required=True
    )
    menu = wechat.add_parser("menu", help="打印自定义菜单（上传到公众号）")
    menu.add_argument("--json", action="store_true", help="一行 JSON")
    menu.set_defaults(handler=command_wechat_menu)
