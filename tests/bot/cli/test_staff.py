"""`policybot staff …` and `policybot kb export-additions`, run as an operator would."""

from __future__ import annotations

import argparse
import getpass
import shutil
import tomllib
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.cli.staff import PasswordInputError, read_password
from bot.console.passwords import Passwords
from bot.storage.console_models import KnowledgeAddition, StaffAccount
from bot.storage.engine import create_engine_for, init_db, run_transaction
from bot.storage.repositories import knowledge_additions
from tests.bot.cli.test_main import REPO, policybot

PASSWORD = "a long enough password"
PLAN_CURATED = "tianjin-2023-county-migrant-plan.curated.toml"


def account(workdir: Path, name: str) -> StaffAccount:
    engine = create_engine_for(f"sqlite:///{workdir / 'test.db'}")
    with Session(engine) as session:
        found = session.exec(select(StaffAccount).where(StaffAccount.name == name)).one()
    engine.dispose()
    return found


def test_the_first_admin_from_a_script(tmp_path: Path) -> None:
    added = policybot(
        "staff", "add", "wang", "--role", "admin", "--password-stdin", cwd=tmp_path,
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "已添加 wang（管理员）" in added.stdout
    stored = account(tmp_path, "wang")
    assert stored.password_hash.startswith("$argon2id$") and PASSWORD not in stored.password_hash
    assert Passwords().verify(stored.password_hash, PASSWORD)
    listed = policybot("staff", "list", cwd=tmp_path)
    assert "wang  管理员  可用  最近登录：从未登录" in listed.stdout
    again = policybot(
        "staff", "add", "wang", "--role", "curator", "--password-stdin", cwd=tmp_path,
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert again.returncode == 1 and "已经存在" in again.stderr


def test_a_short_password_or_unknown_role_is_refused(tmp_path: Path) -> None:
    short = policybot(
        "staff", "add", "li", "--role", "caseworker", "--password-stdin", cwd=tmp_path,
        stdin="short\n",
    )  # fmt: skip
    assert short.returncode == 1 and "至少" in short.stderr
    role = policybot("staff", "add", "li", "--role", "boss", "--password-stdin", cwd=tmp_path)
    assert role.returncode == 2 and "invalid choice" in role.stderr


def test_disable_enable_and_reset(tmp_path: Path) -> None:
    policybot(
        "staff", "add", "li", "--role", "caseworker", "--password-stdin", cwd=tmp_path,
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert policybot("staff", "disable", "li", cwd=tmp_path).returncode == 0
    assert account(tmp_path, "li").disabled
    assert "已停用" in policybot("staff", "list", cwd=tmp_path).stdout
    assert policybot("staff", "enable", "li", cwd=tmp_path).returncode == 0
    reset = policybot(
        "staff", "reset", "li", "--password-stdin", cwd=tmp_path, stdin="another long password\n"
    )
    assert reset.returncode == 0, reset.stderr
    assert Passwords().verify(account(tmp_path, "li").password_hash, "another long password")
    missing = policybot("staff", "disable", "nobody", cwd=tmp_path)
    assert missing.returncode == 1 and "没有账号 nobody" in missing.stderr


def test_the_password_is_asked_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    args = argparse.Namespace(password_stdin=False)
    typed = iter([PASSWORD, PASSWORD, PASSWORD, "something else entirely"])
    monkeypatch.setattr(getpass, "getpass", lambda _prompt="": next(typed))
    assert read_password(args) == PASSWORD
    with pytest.raises(PasswordInputError, match="不一样"):
        read_password(args)


def test_additions_are_exported_into_the_curated_files(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(REPO / "knowledge" / "data" / PLAN_CURATED, data / PLAN_CURATED)
    shutil.copy(REPO / "knowledge" / "data" / "synonyms.toml", data / "synonyms.toml")
    engine = create_engine_for(f"sqlite:///{tmp_path / 'test.db'}")
    init_db(engine)

    def add(session: Session) -> None:
        knowledge_additions.add_phrase(
            "tianjin-2023-county-migrant-plan", "2.2.2", "学开挖掘机", added_by="zhao",
            session=session,
        )  # fmt: skip
        knowledge_additions.add_synonym("挖机学校", "技工学校", added_by="zhao", session=session)
        knowledge_additions.add_synonym("挖机", "挖掘机", added_by="zhao", session=session)

    run_transaction(engine, add)
    result = policybot("kb", "export-additions", "--data-dir", str(data), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    curated = tomllib.loads((data / PLAN_CURATED).read_text(encoding="utf-8"))
    assert curated["clauses"]["2.2.2"]["phrases"][-1] == "学开挖掘机"
    assert "# 每条 summary 只说条文里写了的内容" in (data / PLAN_CURATED).read_text("utf-8")
    synonyms = tomllib.loads((data / "synonyms.toml").read_text(encoding="utf-8"))
    assert synonyms["terms"]["技工学校"][-1] == "挖机学校"
    assert synonyms["terms"]["挖掘机"] == ["挖机"]
    with Session(engine) as session:
        assert all(a.exported_at for a in session.exec(select(KnowledgeAddition)))
    again = policybot("kb", "export-additions", "--data-dir", str(data), cwd=tmp_path)
    assert "没有要写出的" in again.stdout
    engine.dispose()
