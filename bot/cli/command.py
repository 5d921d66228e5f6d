"""What every command group shares: the handler's shape and the exit codes."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeAlias

from bot.settings import Settings

EXIT_BAD_INPUT = 1
EXIT_BAD_CONFIG = 2

# A command: the validated settings and its arguments in, the exit code out.
Command: TypeAlias = Callable[[Settings, argparse.Namespace], int]
# The top-level parser's subcommands, to which each group adds its own.
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
