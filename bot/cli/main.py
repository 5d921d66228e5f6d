"""The `policybot` command: each command group is its own module; this one only assembles them
and runs the chosen command with the validated settings."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.cli import answering, campaign, cases, db, jobs, kb, run, staff, wechat
from bot.cli.command import EXIT_BAD_CONFIG, EXIT_BAD_INPUT, Command
from bot.events import configure_logging
from bot.settings import SettingsError, load_settings
from bot.storage.schema import SchemaError
from knowledge.curation import CurationError
from knowledge.document import ParseError

# The order `policybot --help` lists them in.
GROUPS = (run, wechat, answering, kb, cases, staff, campaign, jobs, db)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="policybot", description="天津农民工政策问答机器人")
    parser.add_argument("--config", type=Path, help="config.toml 路径（默认 ./config.toml）")
    commands = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except SettingsError as error:
        sys.stderr.write(f"{error}\n")
        return EXIT_BAD_CONFIG
    configure_logging(settings.logging.level, as_json=settings.logging.as_json)
    handler: Command = args.handler
    try:
        return handler(settings, args)
    except SchemaError as error:
        # Like a settings error: the operator has something to do before the bot can start.
        sys.stderr.write(f"{error}\n")
        return EXIT_BAD_CONFIG
    except (ParseError, CurationError) as error:
        sys.stderr.write(f"{error}\n")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
