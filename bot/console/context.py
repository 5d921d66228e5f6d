"""What the console's routes share, built once by `bot.console.site`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from bot.console.pages import Pages
from bot.console.passwords import Passwords
from bot.console.sessions import SessionBook
from bot.live_knowledge import LiveKnowledge
from bot.settings import Settings
from bot.storage.case_desk import SqlCaseDesk


@dataclass(frozen=True, slots=True)
class ConsoleDeps:
    """The wired application as the console sees it (built by `bot.app`)."""

    settings: Settings
    engine: Engine
    knowledge: LiveKnowledge
    desk: SqlCaseDesk
    # None: argon2-cffi's defaults (tests may hand in a cheaper hasher).
    passwords: Passwords | None = None


@dataclass(frozen=True, slots=True)
class Console:
    deps: ConsoleDeps
    pages: Pages
    sessions: SessionBook
    passwords: Passwords

    @property
    def engine(self) -> Engine:
        return self.deps.engine

    @property
    def settings(self) -> Settings:
        return self.deps.settings
