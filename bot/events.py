"""Logging set-up and event lines: names and numbers (clause, score, latency), never message text."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

LOGGER_NAME = "policybot"


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", {})
        return json.dumps(
            {
                "time": self.formatTime(record),
                "level": record.levelname,
                "event": record.getMessage(),
                **fields,
            },
            ensure_ascii=False,
        )


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", {})
        numbers = " ".join(f"{key}={value}" for key, value in fields.items())
        return (
            f"{self.formatTime(record)} {record.levelname} {record.getMessage()} {numbers}".rstrip()
        )


def configure_logging(level: str, *, as_json: bool) -> None:
    """Our events to stderr; chatty libraries (httpx logs every URL, with the token) kept at WARNING."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonFormatter() if as_json else _TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in (
        "httpx",
        "httpcore",
        "telegram",
        "apscheduler",
        "jieba",
        "aiohttp.access",
        "alembic",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def log_event(event: str, level: int = logging.INFO, **fields: Any) -> None:
    """One event line: `event` is a fixed name; fields are ids and numbers only."""
    logging.getLogger(LOGGER_NAME).log(level, event, extra={"fields": fields})
