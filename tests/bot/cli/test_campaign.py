"""`policybot campaign …` and `policybot broadcast` in a subprocess, against the fake Bot API
server where Telegram is needed: posters whose QR code reads back, and a broadcast killed with
SIGTERM midway and run again."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import zxingcpp
from PIL import Image
from sqlmodel import Session

from bot.storage.engine import create_engine_for
from bot.storage.repositories import broadcasts
from tests.bot.cli.test_main import REPO, policybot
from tests.fake_telegram import DEFAULT_TOKEN, FakeTelegramServer

CODE = "chunfeng2027"
SUBSCRIBERS = 40
FIRST_CHAT = 9100


def create_campaign(workdir: Path) -> None:
    (workdir / "info.txt").write_text("3月1日西青区人力资源市场招聘会。", encoding="utf-8")
    result = policybot(
        "campaign", "create", CODE, "--name", "春风行动", "--start", "2027-02-01",
        "--end", "2027-03-31", "--topics", "employment", "campaign", "--info", "info.txt",
        cwd=workdir,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def read_qr(path: Path) -> list[str]:
    with Image.open(path) as image:
        return [found.text for found in zxingcpp.read_barcodes(image)]


def test_create_list_and_show(tmp_path: Path) -> None:
    create_campaign(tmp_path)
    listed = policybot("campaign", "list", cwd=tmp_path)
    assert f"{CODE}  春风行动  2027-02-01–2027-03-31" in listed.stdout
    shown = policybot("campaign", "show", CODE, cwd=tmp_path)
    assert "3月1日西青区人力资源市场招聘会。" in shown.stdout
    duplicate = policybot(
        "campaign", "create", CODE, "--name", "x", "--start", "2027-02-01", "--end", "2027-03-01",
        cwd=tmp_path,
    )  # fmt: skip
    assert duplicate.returncode == 1 and "已经存在" in duplicate.stderr


def test_a_bad_code_or_topic_is_refused(tmp_path: Path) -> None:
    bad_code = policybot(
        "campaign", "create", "春风", "--name", "x", "--start", "2027-02-01", "--end", "2027-03-01",
        cwd=tmp_path,
    )  # fmt: skip
    bad_topic = policybot(
        "campaign", "create", "ok", "--name", "x", "--start", "2027-02-01", "--end", "2027-03-01",
        "--topics", "weather", cwd=tmp_path,
    )  # fmt: skip
    assert bad_code.returncode == 2 and bad_topic.returncode == 1


def test_the_poster_qr_code_reads_back_to_the_deep_link(tmp_path: Path) -> None:
    create_campaign(tmp_path)
    result = policybot(
        "campaign", "poster", CODE, "--place", "xiqing", "--out", "poster.png",
        cwd=tmp_path, env={"POLICYBOT_TELEGRAM__USERNAME": "tianjin_policy_bot"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert read_qr(tmp_path / "poster.png") == [
        f"https://t.me/tianjin_policy_bot?start={CODE}_xiqing"
    ]


async def test_the_poster_asks_telegram_for_the_username(tmp_path: Path) -> None:
    create_campaign(tmp_path)
    async with FakeTelegramServer(username="from_get_me_bot") as server:
        result = await asyncio.to_thread(
            policybot,
            "campaign", "poster", CODE, "--place", "station", "--out", "p.png",
            cwd=tmp_path,
            env={"TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN, "POLICYBOT_TELEGRAM__BASE_URL": server.base_url},
        )  # fmt: skip
        assert server.calls("getMe")
    assert result.returncode == 0, result.stderr
    assert read_qr(tmp_path / "p.png") == [f"https://t.me/from_get_me_bot?start={CODE}_station"]


def test_stats_print_a_table_and_draw_a_chart(tmp_path: Path) -> None:
    create_campaign(tmp_path)
    result = policybot("campaign", "stats", CODE, "--chart", "stats.png", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "合计" in result.stdout and (tmp_path / "stats.png").stat().st_size > 1000


def subscribe_everyone(workdir: Path) -> None:
    engine = create_engine_for(f"sqlite:///{workdir / 'test.db'}")
    with Session(engine) as session:
        for number in range(SUBSCRIBERS):
            chat = FIRST_CHAT + number
            broadcasts.subscribe(
                f"u{chat}", "telegram", address=str(chat), topics=[], session=session
            )
        session.commit()
    engine.dispose()


BROADCAST = [
    sys.executable,
    "-m",
    "bot.cli",
    "broadcast",
    "--campaign",
    CODE,
    "--message",
    "news.txt",
]


def broadcast_env(workdir: Path, server: FakeTelegramServer) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("POLICYBOT_")}
    return environment | {
        "PYTHONPATH": str(REPO),
        "POLICYBOT_DATABASE__URL": f"sqlite:///{workdir / 'test.db'}",
        "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
        "POLICYBOT_TELEGRAM__BASE_URL": server.base_url,
    }


async def test_a_broadcast_killed_midway_resumes_with_no_duplicates_and_no_gaps(
    tmp_path: Path,
) -> None:
    create_campaign(tmp_path)
    subscribe_everyone(tmp_path)
    (tmp_path / "news.txt").write_text("春风行动招聘会3月1日开始。", encoding="utf-8")
    # Answers come late, so several sends are in flight when SIGTERM arrives.
    async with FakeTelegramServer(enforce_limits=True, response_delay=0.3) as server:
        environment = broadcast_env(tmp_path, server)
        first = subprocess.Popen(
            BROADCAST, cwd=tmp_path, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        await server.wait_for_call("sendMessage", count=10, timeout=60)
        first.send_signal(signal.SIGTERM)
        await asyncio.to_thread(first.wait, 30)
        before = len(server.calls("sendMessage"))
        assert before < SUBSCRIBERS
        second = await asyncio.to_thread(
            subprocess.run, BROADCAST, cwd=tmp_path, env=environment, capture_output=True,
            text=True, timeout=120, check=False,
        )  # fmt: skip
        assert second.returncode == 0, second.stderr
        assert "继续群发" in second.stdout and f"已发 {SUBSCRIBERS - before}" in second.stdout
        counts = Counter(call.chat_id for call in server.calls("sendMessage"))
        assert server.rate_limited == []
    assert set(counts) == {FIRST_CHAT + n for n in range(SUBSCRIBERS)}
    assert set(counts.values()) == {1}
    third = policybot("broadcast", "--campaign", CODE, "--message", "news.txt", cwd=tmp_path,
                      env={"TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN})  # fmt: skip
    assert third.returncode == 0 and "已经发完" in third.stdout
