"""`policybot db …` and what a start does with an old schema, in a subprocess as an operator runs
them: SQLite upgrades itself at start behind a backup, PostgreSQL refuses until `db upgrade`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from sqlalchemy import inspect

from bot.storage.engine import create_engine_for
from bot.storage.schema import read_state, script_directory
from tests.bot.cli.test_main import REPO, free_port, policybot
from tests.bot.storage.release_6a79bf1 import create_release_schema, fill

HEAD = script_directory().get_current_head()


def release_database(url: str) -> str:
    """6a79bf1's schema with its rows at `url`; the pending case's number."""
    engine = create_engine_for(url)
    try:
        create_release_schema(engine)
        return fill(engine).pending_case
    finally:
        engine.dispose()


def test_db_commands_on_a_release_database(tmp_path: Path) -> None:
    release_database(f"sqlite:///{tmp_path / 'test.db'}")
    current = policybot("db", "current", cwd=tmp_path)
    assert current.returncode == 0, current.stderr
    assert "0001（create_all 建的表" in current.stdout and "policybot db upgrade" in current.stdout
    history = policybot("db", "history", cwd=tmp_path).stdout.splitlines()
    assert history[0].startswith("0001  The schema of release 6a79bf1") and "← 当前" in history[0]
    assert history[-1].startswith(f"{HEAD}  ")

    upgraded = policybot("db", "upgrade", cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    [backup] = tmp_path.glob("test.db.bak-0001-*")
    assert f"升级前的备份：{backup}" in upgraded.stdout and f"0001 → {HEAD}" in upgraded.stdout
    assert policybot("db", "current", cwd=tmp_path).stdout.strip() == f"{HEAD}（最新）"
    assert "← 当前" in policybot("db", "history", cwd=tmp_path).stdout.splitlines()[-1]
    again = policybot("db", "upgrade", cwd=tmp_path)
    assert again.stdout.strip() == f"已是最新：{HEAD}" and len(list(tmp_path.glob("*.bak-*"))) == 1


def test_serve_on_postgresql_behind_head_refuses_until_db_upgrade(
    tmp_path: Path, postgres_url: str
) -> None:
    release_database(postgres_url)
    database = {"POLICYBOT_DATABASE__URL": postgres_url}
    refused = policybot("serve", "--port", str(free_port()), cwd=tmp_path, env=database)
    assert refused.returncode == 2  # like a settings error
    assert "`policybot db upgrade`" in refused.stderr and "Traceback" not in refused.stderr
    assert policybot("cases", "list", cwd=tmp_path, env=database).returncode == 2
    engine = create_engine_for(postgres_url)
    try:
        assert "alembic_version" not in inspect(engine).get_table_names()  # nothing was touched
        upgraded = policybot("db", "upgrade", cwd=tmp_path, env=database)
        assert upgraded.returncode == 0, upgraded.stderr
        assert "备份" not in upgraded.stdout  # pg_dump is the operator's (README)
        assert read_state(engine).is_at_head
    finally:
        engine.dispose()
    listed = policybot("cases", "list", cwd=tmp_path, env=database)
    assert listed.returncode == 0 and "138****5678" in listed.stdout


def test_serve_on_sqlite_upgrades_itself_and_leaves_a_backup(tmp_path: Path) -> None:
    pending = release_database(f"sqlite:///{tmp_path / 'test.db'}")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
        cwd=tmp_path,
        env={
            key: value
            for key, value in os.environ.items()
            if not key.startswith("POLICYBOT_") and key != "TELEGRAM_BOT_TOKEN"
        }
        | {"PYTHONPATH": str(REPO), "POLICYBOT_DATABASE__URL": f"sqlite:///{tmp_path / 'test.db'}"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        health = None
        for _ in range(600):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    health = json.loads(r.read())
                break
            except OSError:
                if process.poll() is not None:
                    break
                time.sleep(0.1)
        assert health is not None, process.communicate(timeout=30)
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert "schema_upgraded" in stderr and f"after={HEAD}" in stderr
    assert len(list(tmp_path.glob("test.db.bak-0001-*"))) == 1
    assert policybot("db", "current", cwd=tmp_path).stdout.strip() == f"{HEAD}（最新）"
    listed = policybot("cases", "list", "--status", "pending", cwd=tmp_path)
    assert pending in listed.stdout and "138****5678" in listed.stdout
