"""The chat endpoints against the framework's own speed, with one load generator (a command).

Runs, one after the other, each in its own server process on loopback and loaded by the same wrk
(Debian's `wrk`; installed with apt-get when missing and run as root):
- a bare Starlette endpoint that parses the JSON body and echoes it;
- `policybot serve`'s /api/chat (limits lifted): five everyday questions over 200 sessions;
- its WeChat callback in safe (encrypted) mode, every message signed, encrypted and new.
Prints requests/s, p50 and p99 for each and the ratio to the bare endpoint. Issue 16's targets:
/api/chat ≥ 25 % of the bare endpoint at p99 ≤ 50 ms on SQLite, ≥ 15 % on PostgreSQL.

Usage: .venv/bin/python scripts/bench_framework.py [--database sqlite|postgresql://…]
       [--connections 32] [--seconds 8] [--workers 1]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from scripts.benchmark_workload import free_port  # noqa: E402
from tests.fake_wechat import AES_KEY, APPID, TOKEN, WechatPlatform  # noqa: E402

EVERYDAY_QUESTIONS = (
    "老板欠了三个月工资怎么办",
    "没签劳动合同怎么办",
    "孩子能在天津上公办小学吗",
    "公租房怎么申请",
    "工伤了单位不管怎么办",
)
SESSIONS = 200
# Every WeChat message needs its own MsgId (a repeat is answered from the receipt, not the
# dialogue): more than wrk can send in one run on this machine.
WECHAT_MESSAGES = 40_000
UNLIMITED = 10**9
# wrk prints one JSON line in `done`; latencies are in microseconds.
WRK_SCRIPT = """
local lines = {}
for line in io.lines(os.getenv("BENCH_REQUESTS")) do
  local path, body = line:match("^(.-)\\t(.*)$")
  lines[#lines + 1] = {path, body}
end
local counter = 0
local offset = 0
local headers = {["Content-Type"] = os.getenv("BENCH_CONTENT_TYPE")}
function setup(thread)
  thread:set("offset", offset)
  offset = offset + math.floor(#lines / 4)
end
function request()
  counter = counter + 1
  local item = lines[((offset + counter) % #lines) + 1]
  return wrk.format("POST", item[1], headers, item[2])
end
function done(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "seconds": %f, "p50_us": %d, "p99_us": %d, "errors": %d, "status": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
"""


@dataclass(frozen=True)
class Result:
    name: str
    per_second: float
    p50_ms: float
    p99_ms: float
    failed: int


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, capture_output=True)
        found = shutil.which("wrk")
    if not found:
        sys.exit("wrk is needed: apt-get install wrk")
    return found


def wait_until_ready(base_url: str, path: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the server stopped at start (exit {process.returncode})")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(base_url + path, timeout=2).status_code < 500:
                return
        time.sleep(0.3)
    sys.exit("the server did not start within 120 s")


@contextlib.contextmanager
def server(command: list[str], env: dict[str, str], ready_path: str) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [*command, "--port", str(port)], env={**os.environ, **env}, cwd=env.get("BENCH_CWD")
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base_url, ready_path, process)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def load(
    wrk: str, name: str, url: str, requests: Path, content_type: str, args: argparse.Namespace
) -> Result:
    script = requests.with_suffix(".lua")
    script.write_text(WRK_SCRIPT, encoding="utf-8")
    env = {**os.environ, "BENCH_REQUESTS": str(requests), "BENCH_CONTENT_TYPE": content_type}
    command = [wrk, "-t2", f"-c{args.connections}", "-s", str(script), url]
    # A short warm-up (imports, caches, the first sessions), then the measured run.
    subprocess.run([*command[:1], "-d2s", *command[1:]], env=env, check=True, capture_output=True)
    run = subprocess.run(
        [*command[:1], f"-d{args.seconds}s", *command[1:]],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    return Result(
        name,
        figures["requests"] / figures["seconds"],
        figures["p50_us"] / 1000,
        figures["p99_us"] / 1000,
        figures["errors"] + figures["status"],
    )


def chat_requests(path: Path) -> None:
    lines = []
    for session in range(SESSIONS):
        token = f"bench-{session:04d}-{uuid.uuid4().hex[:12]}"
        for question in EVERYDAY_QUESTIONS:
            body = json.dumps({"session": token, "text": question}, ensure_ascii=False)
            lines.append(f"/api/chat\t{body}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def wechat_requests(path: Path) -> None:
    platform = WechatPlatform(httpx.AsyncClient(), mode="safe")
    lines = []
    for n in range(WECHAT_MESSAGES):
        fields = platform.text(f"oBench{n % SESSIONS:04d}", EVERYDAY_QUESTIONS[n % 5])
        query, body = platform.signed_request(fields)
        lines.append(f"/wechat?{httpx.QueryParams(query)}\t{body}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def policybot_env(directory: Path, database: str) -> dict[str, str]:
    config = directory / "empty.toml"
    config.write_text("", encoding="utf-8")
    url = f"sqlite:///{directory / 'bench.db'}" if database == "sqlite" else database
    return {
        "POLICYBOT_CONFIG": str(config),
        "POLICYBOT_DATABASE__URL": url,
        "POLICYBOT_LOGGING__LEVEL": "WARNING",
        "POLICYBOT_WEB_CHAT__REQUESTS_PER_MINUTE_PER_SESSION": str(UNLIMITED),
        "POLICYBOT_WEB_CHAT__REQUESTS_PER_MINUTE_PER_IP": str(UNLIMITED),
        "POLICYBOT_WECHAT__TOKEN": TOKEN,
        "POLICYBOT_WECHAT__APPID": APPID,
        "POLICYBOT_WECHAT__ENCODING_AES_KEY": AES_KEY,
        "POLICYBOT_WECHAT__MODE": "safe",
        "BENCH_CWD": str(directory),
    }


@contextlib.contextmanager
def fresh_database(database: str) -> Iterator[str]:
    """SQLite as given; for PostgreSQL a new database on that server, upgraded, dropped after."""
    if database == "sqlite":
        yield database
        return
    import sqlalchemy

    from bot.storage.engine import create_engine_for

    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine_for(database).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    url = str(sqlalchemy.engine.make_url(database).set(database=name).render_as_string(False))
    try:
        subprocess.run(
            [sys.executable, "-m", "bot.cli.main", "db", "upgrade"],
            env={**os.environ, "POLICYBOT_DATABASE__URL": url},
            check=True,
            capture_output=True,
        )
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="sqlite", help="sqlite or a postgresql:// URL")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="policybot serve --workers")
    args = parser.parse_args()
    wrk = ensure_wrk()
    directory = Path(tempfile.mkdtemp(prefix="bench-framework-"))
    chat, wechat = directory / "chat.tsv", directory / "wechat.tsv"
    chat_requests(chat)
    wechat_requests(wechat)
    echo = [
        sys.executable,
        str(Path(__file__).with_name("bare_echo.py")),
        "--workers",
        str(args.workers),
    ]
    with server(echo, {}, "/echo") as base_url:
        bare = load(wrk, "bare Starlette echo", base_url + "/echo", chat, "application/json", args)
    results = [bare]
    with fresh_database(args.database) as database:
        env = policybot_env(directory, database)
        command = [sys.executable, "-m", "bot.cli.main", "serve", "--workers", str(args.workers)]
        with server(command, env, "/healthz") as base_url:
            results.append(load(wrk, "/api/chat", base_url, chat, "application/json", args))
            results.append(load(wrk, "WeChat (safe)", base_url, wechat, "text/xml", args))
    backend = "SQLite" if args.database == "sqlite" else "PostgreSQL"
    print(
        f"{backend}, {args.workers} process(es), wrk -t2 -c{args.connections} -d{args.seconds}s, "
        f"{os.cpu_count()} cores"
    )
    print(f"  {'endpoint':<22}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'vs bare':>9}{'failed':>8}")
    for result in results:
        share = result.per_second / bare.per_second * 100
        print(
            f"  {result.name:<22}{result.per_second:>9.0f}{result.p50_ms:>9.1f}"
            f"{result.p99_ms:>9.1f}{share:>8.1f}%{result.failed:>8}"
        )


if __name__ == "__main__":
    main()
