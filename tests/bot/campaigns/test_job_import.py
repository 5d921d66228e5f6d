"""`policybot jobs import`: good, bad and mixed spreadsheets (xlsx and csv); all or nothing;
re-import updates by 岗位编号; list, show, expire and stats."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.cli.main import main
from bot.storage.engine import create_engine_for, init_db
from bot.storage.job_models import JobPostingRecord
from tests.bot.campaigns.job_fixtures import CLEANER, WELDER, row, write_csv, write_xlsx


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    database = tmp_path / "jobs.db"
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{database}"\n', encoding="utf-8")
    return path


def postings(config: Path) -> list[JobPostingRecord]:
    url = config.read_text(encoding="utf-8").split('"')[1]
    engine = create_engine_for(url)
    init_db(engine)
    with Session(engine) as session:
        found = list(session.exec(select(JobPostingRecord)).all())
    engine.dispose()
    return found


def run(config: Path, *args: str) -> int:
    return main(["--config", str(config), "jobs", *args])


def test_a_good_workbook_imports_every_row(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    numbers = [*CLEANER[:6], 150.0, 180.0, *CLEANER[8:]]  # Excel cells holding numbers
    sheet = write_xlsx(tmp_path / "good.xlsx", [WELDER, numbers])
    assert run(config, "import", str(sheet)) == 0
    assert "新增 2" in capsys.readouterr().out
    by_code = {p.code: p for p in postings(config)}
    assert by_code["XQ-001"].trade_key == "焊工" and by_code["JN-002"].pay_unit == "日"


def test_a_bad_csv_reports_each_row_by_line_and_imports_nothing(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = write_csv(
        tmp_path / "bad.csv",
        [
            row(WELDER, 所在区="火星区"),
            row(CLEANER, 薪资单位="周"),
            row(CLEANER, 岗位编号="JN-003", 有效期至="2027/3/31"),
        ],
    )
    assert run(config, "import", str(sheet)) == 1
    errors = capsys.readouterr().err
    assert "第2行：所在区“火星区”不是天津的区" in errors
    assert "第3行：薪资单位“周”应是 月、日 或 小时" in errors
    assert "第4行：有效期至“2027/3/31”应写成 2027-03-31" in errors
    assert postings(config) == []


def test_a_mixed_file_imports_nothing(config: Path, tmp_path: Path) -> None:
    sheet = write_xlsx(tmp_path / "mixed.xlsx", [WELDER, row(CLEANER, 薪资下限="面议")])
    assert run(config, "import", str(sheet)) == 1
    assert postings(config) == []


def test_a_wrong_header_is_refused(config: Path, tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("编号,名称\nA,B\n", encoding="utf-8")
    assert run(config, "import", str(path)) == 1
    assert postings(config) == []


def test_re_import_updates_by_code(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(config, "import", str(write_csv(tmp_path / "a.csv", [WELDER]))) == 0
    changed = write_csv(tmp_path / "b.csv", [row(WELDER, 薪资上限="9000"), CLEANER])
    assert run(config, "import", str(changed)) == 0
    assert "新增 1，更新 1" in capsys.readouterr().out
    (welder,) = [p for p in postings(config) if p.code == "XQ-001"]
    assert welder.pay_max == 9000 and len(postings(config)) == 2


def test_list_show_expire_and_stats(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expired = row(CLEANER, 有效期至="2020-01-01")
    assert run(config, "import", str(write_csv(tmp_path / "a.csv", [WELDER, expired]))) == 0
    capsys.readouterr()
    assert run(config, "list") == 0
    listed = capsys.readouterr().out
    assert "XQ-001" in listed and "JN-002" not in listed  # past its date: not live
    assert run(config, "show", "XQ-001") == 0
    shown = capsys.readouterr().out
    assert "来源：西青区人社局" in shown and "以用人单位和人社部门发布为准" in shown
    assert run(config, "expire", "XQ-001") == 0
    capsys.readouterr()
    assert run(config, "list") == 0
    assert "XQ-001" not in capsys.readouterr().out
    assert run(config, "stats") == 0
    assert "岗位：导入 2，有效 0" in capsys.readouterr().out
