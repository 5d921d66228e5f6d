"""What a start loads before its first answer: the platforms' clients and Alembic only when
they are used (each costs a tenth of a second or more of the start-up budget)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.storage.engine import create_engine_for, init_db

REPO = Path(__file__).resolve().parents[2]
# Loaded only by the channels, commands and upgrades that use them.
NOT_AT_START = ("telegram", "alembic", "redis", "pkg_resources", "argon2")
FIRST_ANSWER = """
import sys
from pathlib import Path
from bot.app import build_app
from bot.settings import load_settings
from handlers.questions import answer_question
app = build_app(load_settings(Path(sys.argv[1])))
assert answer_question(app.matcher, "工资多久发一次")
print(" ".join(sorted({name.split(".")[0] for name in sys.modules})))
"""


def loaded_by_first_answer(database: Path) -> list[str]:
    config = database.with_suffix(".toml")
    config.write_text(f'[database]\nurl = "sqlite:///{database}"\n', encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-c", FIRST_ANSWER, str(config)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()


def test_a_first_start_answers_without_the_clients_it_does_not_use(tmp_path: Path) -> None:
    loaded = loaded_by_first_answer(tmp_path / "bot.db")
    assert [name for name in NOT_AT_START if name in loaded] == []


def test_a_restart_answers_without_the_clients_it_does_not_use(tmp_path: Path) -> None:
    database = tmp_path / "bot.db"
    engine = create_engine_for(f"sqlite:///{database}")
    init_db(engine)  # by the revisions, as an upgraded database is
    engine.dispose()
    loaded = loaded_by_first_answer(database)
    assert [name for name in NOT_AT_START if name in loaded] == []
