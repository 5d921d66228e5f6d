"""Logging set-up and event lines: names and numbers (clause, score, latency), never message text.

Exceptions are logged with their traceback, but a database error's text carries the values its
statement was given (`[parameters: …]`, PostgreSQL's `DETAIL:  Key (phone)=(138…)`). The engines
hide them (`hide_parameters`); `ParameterScrubber`, on every handler, is the second line.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any, TextIO

LOGGER_NAME = "policybot"
HIDDEN = "(hidden)"
# What a failing statement shows of its values: SQLAlchemy's parameter line (a repr, so one line),
# PostgreSQL's DETAIL lines (the key or the whole failing row) and the value an input was refused.
_LEAKS = (
    (re.compile(r"^\[parameters: .*$", re.MULTILINE), f"[parameters: {HIDDEN}]"),
    (re.compile(r"^DETAIL: .*$", re.MULTILINE), f"DETAIL:  {HIDDEN}"),
    (re.compile(r"(invalid input syntax for type \w+): \".*?\"$", re.MULTILINE), rf"\1: {HIDDEN}"),
)


def scrubbed(text: str) -> str:
    """`text` without the statement values a database error quotes."""
    for pattern, replacement in _LEAKS:
        text = pattern.sub(replacement, text)
    return text


class ParameterScrubber(logging.Filter):
    """Takes statement values out of a record's message and its exception text, whoever logged it
    (uvicorn's "Exception in ASGI application" included)."""

    def __init__(self) -> None:
        super().__init__()
        self._renderer = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = scrubbed(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            # Rendered once here; formatters then use this text instead of the exception's.
            record.exc_text = self._renderer.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrubbed(record.exc_text)
        return True


def _exception_text(formatter: logging.Formatter, record: logging.LogRecord) -> str | None:
    if record.exc_info and not record.exc_text:
        record.exc_text = scrubbed(formatter.formatException(record.exc_info))
    return record.exc_text or None


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", {})
        line: dict[str, Any] = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "event": record.getMessage(),
            **fields,
        }
        exception = _exception_text(self, record)
        if exception:
            line["exception"] = exception
        return json.dumps(line, ensure_ascii=False)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", {})
        numbers = " ".join(f"{key}={value}" for key, value in fields.items())
        line = f"{self.formatTime(record)} {record.levelname} {record.getMessage()} {numbers}"
        exception = _exception_text(self, record)
        return f"{line.rstrip()}\n{exception}" if exception else line.rstrip()


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to `sys.stderr` as it is at each record, not as it was at configuration: a stderr
    replaced later (a test's capture, closed when the test ends; a daemon's redirect) never
    leaves our one handler writing to a closed stream. The stdlib's last-resort handler does the
    same."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        """Always stderr: `setStream` has nothing to change."""


def configure_logging(level: str, *, as_json: bool, stream: TextIO | None = None) -> None:
    """Our events to stderr; chatty libraries (httpx logs every URL, with the token) kept at WARNING.

    Every logger ends here (uvicorn is started without its own logging config), so the scrubber
    on this one handler sees every record. `stream` is stderr unless given (tests read a buffer).
    """
    handler = _StderrHandler() if stream is None else logging.StreamHandler(stream)
    handler.setFormatter(_JsonFormatter() if as_json else _TextFormatter())
    handler.addFilter(ParameterScrubber())
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
