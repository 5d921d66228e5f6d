"""What only the real `policybot serve` process shows: uvicorn's handling of forwarded headers and
what reaches its log when a statement fails. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from bot.app import USER_KEY_SECRET_NAME
from bot.storage.engine import create_engine_for, run_transaction
from bot.storage.repositories.app_secret import get_or_create_secret
from bot.user_keys import UserKeyHasher
from tests.bot.serve_process import ServeProcess

SESSION = "serve-process-session-0001"
PHONE = "13987654321"
EMPLOYER = "津南区某某劳务派遣公司"
DESCRIPTION = "包工头拖欠我们八个人四个月工资共十二万元"
QUESTION = "明天天津会不会下大雨呢"


@pytest.fixture
def serve(tmp_path: Path, database_url: str) -> Iterator[ServeProcess]:
    process = ServeProcess(
        tmp_path, database_url, {"POLICYBOT_WEB_CHAT__REQUESTS_PER_MINUTE_PER_IP": "2"}
    )
    process.start()
    yield process
    process.stop()


def chat(serve: ServeProcess, headers: dict[str, str] | None = None, **body: Any) -> httpx.Response:
    return httpx.post(
        f"{serve.base_url}/api/chat", json={"session": SESSION, **body}, headers=headers, timeout=10
    )


def test_a_forged_forwarded_for_does_not_dodge_the_address_limit(serve: ServeProcess) -> None:
    statuses = [
        httpx.post(
            f"{serve.base_url}/api/chat",
            json={"session": f"session-number-{n:08d}", "text": "你好"},
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
            timeout=10,
        ).status_code
        for n in range(3)
    ]
    assert statuses == [200, 200, 429]


def test_a_failing_statement_logs_no_personal_data(tmp_path: Path, database_url: str) -> None:
    serve = ServeProcess(tmp_path, database_url)
    serve.start()
    try:
        reply: dict[str, Any] = {}
        for step in ("法律援助", "同意", "欠薪", "武清", PHONE, EMPLOYER, DESCRIPTION):
            reply = chat(serve, text=step).json()["replies"][-1]
        submit = next(c["choice"] for c in reply["choices"] if c["label"] == "确认提交")
        engine = create_engine_for(database_url)
        secret = run_transaction(
            engine, lambda s: get_or_create_secret(USER_KEY_SECRET_NAME, session=s)
        )
        with engine.begin() as connection:  # the statements that store them now fail
            connection.execute(text("ALTER TABLE legal_aid_case RENAME TO legal_aid_case_gone"))
            connection.execute(text("ALTER TABLE question RENAME TO question_gone"))
        engine.dispose()
        assert chat(serve, choice=submit).status_code == 500
        assert chat(serve, text="取消").status_code == 200
        assert chat(serve, text=QUESTION).status_code == 500
    finally:
        serve.stop()
    log = serve.log()
    assert log.count("Exception in ASGI application") == 2, log[-3000:]
    assert "legal_aid_case" in log and "Traceback" in log  # the failure itself is there
    user_key = UserKeyHasher(secret).key_for("web", SESSION)
    for personal in (PHONE, EMPLOYER, DESCRIPTION, QUESTION, user_key, SESSION):
        assert personal not in log, personal
