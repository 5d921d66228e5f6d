"""A real `policybot serve` in a subprocess on a free port: started, killed with SIGKILL, started
again on the same database, its stderr kept in a file. For what only the real process shows
(uvicorn's own handling, its logging, a crash mid-transaction)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class ServeProcess:
    """`policybot serve` with `settings` as POLICYBOT_* environment variables (no config.toml)."""

    workdir: Path
    database_url: str
    settings: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    # Extra `serve` arguments (e.g. --webhook URL).
    arguments: tuple[str, ...] = ()
    # Run `policybot db upgrade` before the first start; off when the caller upgraded once for
    # several processes on one database.
    upgrade: bool = True
    start_timeout: float = START_TIMEOUT_SECONDS
    starts: int = 0
    _process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "serve.log"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def environment(self) -> dict[str, str]:
        config = self.workdir / "empty.toml"
        config.write_text("", encoding="utf-8")
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("POLICYBOT_") and key != "TELEGRAM_BOT_TOKEN"
        }
        environment.update(
            POLICYBOT_CONFIG=str(config), POLICYBOT_DATABASE__URL=self.database_url, **self.settings
        )
        return environment

    def start(self) -> None:
        """Start (again) and wait until /healthz answers."""
        assert self._process is None, "already running"
        if self.starts == 0 and self.upgrade:
            # As an operator does before the first start: PostgreSQL is never upgraded by serve.
            subprocess.run(
                [sys.executable, "-m", "bot.cli", "db", "upgrade"],
                cwd=REPO,
                env=self.environment(),
                check=True,
                capture_output=True,
            )
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bot.cli",
                    "serve",
                    "--port",
                    str(self.port),
                    *self.arguments,
                ],
                cwd=REPO,
                env=self.environment(),
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        self.starts += 1
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None  # may be started again
                raise RuntimeError(f"policybot serve exited: {self.log()[-2000:]}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.02)
        raise TimeoutError(f"policybot serve did not start: {self.log()[-2000:]}")

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown hook, no flush — a crash."""
        if self._process is not None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait()
            self._process = None

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
            self._process = None
