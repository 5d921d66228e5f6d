"""The registry is the only place that lists channels: the wiring and the server name none."""

from __future__ import annotations

import ast
from pathlib import Path

from bot.channels.registry import CHANNELS

REPO = Path(__file__).resolve().parents[3]
PLATFORMS = {
    path.name for path in (REPO / "bot/channels").iterdir() if (path / "__init__.py").exists()
}
# The terminal is the CLI's chat command, not a server channel.
SERVED = PLATFORMS - {"terminal"}


def test_every_platform_package_is_registered_once() -> None:
    names = [spec.name for spec in CHANNELS]
    assert len(names) == len(set(names))
    modules = {spec.build.__module__.split(".")[2] for spec in CHANNELS}
    assert modules == SERVED


def test_the_wiring_and_the_server_import_no_platform() -> None:
    for module in ("bot/app.py", "bot/server.py", "bot/cli/run.py"):
        tree = ast.parse((REPO / module).read_text(encoding="utf-8"))
        imported = {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module is not None
        }
        platforms = {name.split(".")[2] for name in imported if name.startswith("bot.channels.")}
        assert platforms <= {"base", "outbox", "registry"}, module
