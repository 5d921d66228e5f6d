"""The log's second line of defence: whatever a database error quotes of its statement's values
never reaches the log, even from an engine that does not hide them. On SQLite and PostgreSQL."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from bot.events import configure_logging, log_event, scrubbed
from bot.storage.engine import POSTGRES_DRIVER, create_engine_for, init_db
from bot.storage.models import UserRecord

USER_KEY = "te-4f1c9a2b7d3e8f60a1b2c3d4e5f60718293a4b5c6d7e8f9"


@pytest.fixture
def production_log() -> Iterator[io.StringIO]:
    """The bot's logging set-up for one test, into a buffer; pytest's own handlers come back
    afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    log = io.StringIO()
    configure_logging("INFO", as_json=False, stream=log)
    yield log
    root.handlers[:] = handlers
    root.setLevel(level)


def test_an_unhidden_statement_error_is_scrubbed_in_the_log(
    database_url: str, production_log: io.StringIO
) -> None:
    init_db(create_engine_for(database_url))
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        url = url.set(drivername=POSTGRES_DRIVER)
    revealing = create_engine(url)  # hide_parameters off: the error text quotes the values
    row = {"user_key": USER_KEY, "channel": "web", "language": "zh"}
    with revealing.begin() as connection:
        connection.execute(insert(UserRecord), row)
    with pytest.raises(IntegrityError) as failure, revealing.begin() as connection:
        connection.execute(insert(UserRecord), row)
    revealing.dispose()
    assert USER_KEY in str(failure.value)  # what the scrubber is there for
    try:
        raise RuntimeError("while storing a person") from failure.value
    except RuntimeError:
        # Any library's logger (uvicorn's own is covered by tests/bot/test_serve_process.py; here
        # an in-process uvicorn of another test may have cut it off from the root).
        logging.getLogger("tests.events.library").exception("Exception in ASGI application")
    logged = production_log.getvalue()
    assert "Exception in ASGI application" in logged and "IntegrityError" in logged
    assert USER_KEY not in logged


def test_the_scrubber_keeps_the_rest_of_the_message() -> None:
    message = (
        '(psycopg.errors.UniqueViolation) duplicate key value violates unique constraint "p"\n'
        "DETAIL:  Key (phone)=(13812345678) already exists.\n"
        "[SQL: INSERT INTO t (phone) VALUES (%(phone)s)]\n"
        "[parameters: {'phone': '13812345678'}]\n"
        "(Background on this error at: https://sqlalche.me/e/21/gkpj)"
    )
    clean = scrubbed(message)
    assert "13812345678" not in clean
    assert "duplicate key value" in clean and "[SQL: INSERT INTO t" in clean
    assert 'invalid input syntax for type integer: "138' not in scrubbed(
        'invalid input syntax for type integer: "13812345678"'
    )


def test_the_log_follows_stderr_when_it_is_replaced_after_the_set_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Configured while stderr was one stream (a test's capture, closed when that test ended),
    the log writes to whatever stderr is now: no "I/O operation on closed file"."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    first, now = io.StringIO(), io.StringIO()
    monkeypatch.setattr("sys.stderr", first)
    try:
        configure_logging("INFO", as_json=False)
        first.close()
        monkeypatch.setattr("sys.stderr", now)
        log_event("broadcast_started", broadcast=7)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    assert "broadcast_started broadcast=7" in now.getvalue()
