"""Shared fixtures: a database per test, on SQLite and (when one answers) on PostgreSQL, and the
bundled knowledge base built once.

Storage tests ask for `database_url`, `engine` or `session` and so run once per backend. The
PostgreSQL variant needs `POLICYBOT_TEST_DATABASE_URL` (e.g.
`postgresql+psycopg://postgres@127.0.0.1:5432/test`) and is skipped when it is unset or the server
does not answer. Each PostgreSQL test gets its own schema, dropped afterwards, so parallel and
repeated runs never see each other's tables.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from bot.knowledge_base import bundled_sources, read_source
from bot.storage.engine import create_engine_for, init_db
from knowledge.curation import load_curation
from knowledge.lexicon import bundled_data_path, load_lexicon
from knowledge.match import Matcher
from knowledge.parser import parse_file

TEST_DATABASE_URL_ENV = "POLICYBOT_TEST_DATABASE_URL"
# Backend name (the test id suffix) → the fixture that provides a fresh database of that kind.
DATABASE_FIXTURES = {"sqlite": "sqlite_url", "postgresql": "postgres_url"}


@pytest.fixture(autouse=True)
def restored_logging() -> Iterator[None]:
    """A test that runs a command in-process (`bot.cli.main`) sets up the bot's logging for the
    whole interpreter; the next test gets the root logger as it was."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def url_with_search_path(url: str, schema: str) -> str:
    """The same server and database, with unqualified table names resolving to `schema`."""
    # psycopg passes `options` to libpq: the server sets search_path for every pooled connection.
    parsed = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return parsed.render_as_string(hide_password=False)


def create_test_engine(url: str) -> Engine:
    """The production engine for `url` with the tables created: what the bot gets at start."""
    engine = create_engine_for(url)
    init_db(engine)
    return engine


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'policybot.db'}"


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """The configured PostgreSQL URL once it has answered; checked once per run."""
    url = os.environ.get(TEST_DATABASE_URL_ENV, "").strip()
    if not url:
        pytest.skip(f"{TEST_DATABASE_URL_ENV} is not set")
    probe = create_engine_for(url)
    try:
        with probe.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        pytest.skip(f"PostgreSQL at {TEST_DATABASE_URL_ENV} does not answer: {error.orig}")
    finally:
        probe.dispose()
    return url


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A URL whose connections live in a fresh schema, dropped after the test."""
    schema = f"t_{uuid.uuid4().hex}"
    admin = create_engine_for(postgres_server_url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield url_with_search_path(postgres_server_url, schema)
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


@pytest.fixture(params=list(DATABASE_FIXTURES))
def database_url(request: pytest.FixtureRequest) -> str:
    """A fresh, empty database: once on SQLite, once on PostgreSQL."""
    url: str = request.getfixturevalue(DATABASE_FIXTURES[request.param])
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_test_engine(database_url)
    yield engine
    # Close pooled connections before the schema or the temp dir goes away.
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


PLAN = "tianjin-2023-county-migrant-plan"


@pytest.fixture(scope="session")
def library_matcher() -> Matcher:
    """The plan and the eleven laws, as the bot ships them."""
    return Matcher([read_source(path) for path in bundled_sources()], load_lexicon())


@pytest.fixture(scope="session")
def plan_matcher() -> Matcher:
    document = parse_file(bundled_data_path(f"{PLAN}.txt"))
    curation = load_curation(bundled_data_path(f"{PLAN}.curated.toml"), document)
    return Matcher([(document, curation)], load_lexicon())


# ---------------------------------------------------------------- a real browser for pages

CHROMIUM = Path("/usr/bin/chromium")
APT_TIMEOUT_SECONDS = 1200


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's chromium, installed once with apt when missing and we are root; else a skip."""
    if CHROMIUM.exists():
        return CHROMIUM
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("/usr/bin/chromium is missing and apt-get as root is not available")
    environment = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}

    def apt_get(*args: str) -> None:
        subprocess.run(
            ["apt-get", *args], env=environment, timeout=APT_TIMEOUT_SECONDS, check=False
        )

    apt_get("install", "-y", "chromium")
    if not CHROMIUM.exists():  # a fresh machine may have no package lists yet
        apt_get("update")
        apt_get("install", "-y", "chromium")
    if CHROMIUM.exists():
        return CHROMIUM
    pytest.skip("apt-get could not install chromium")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# ---------------------------------------------------------------- a real Redis

TEST_REDIS_URL_ENV = "POLICYBOT_TEST_REDIS_URL"


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The configured Redis once it has answered PING; skipped when unset or silent."""
    import redis

    url = os.environ.get(TEST_REDIS_URL_ENV, "").strip()
    if not url:
        pytest.skip(f"{TEST_REDIS_URL_ENV} is not set")
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis at {TEST_REDIS_URL_ENV} does not answer: {error}")
    finally:
        client.close()
    return url


@pytest.fixture
def redis_section(redis_url: str) -> Iterator[dict[str, str]]:
    """`[redis]` settings with a key prefix of this test's own; its keys are deleted after."""
    import redis

    prefix = f"test-{uuid.uuid4().hex[:12]}"
    yield {"url": redis_url, "key_prefix": prefix}
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
