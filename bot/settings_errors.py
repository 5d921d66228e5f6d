"""How a settings problem is told to the operator: the key as config.toml and the environment
spell it, the value only where it is no secret."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from pydantic_settings import SettingsError as SourceParseError

ENV_PREFIX = "POLICYBOT_"
ENV_NESTED_DELIMITER = "__"
PLAIN_TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
# Keys whose values must never be echoed back in an error message.
SECRET_KEYS = frozenset(
    {
        "database.url",
        "telegram.token",
        "telegram.webhook_secret",
        "privacy.user_key_secret",
        "wechat.token",
        "wechat.encoding_aes_key",
        "wechat.appsecret",
    }
)


def env_var_for(key: str) -> str:
    """The environment variable that sets a dotted key: `database.url` → POLICYBOT_DATABASE__URL."""
    return ENV_PREFIX + key.replace(".", ENV_NESTED_DELIMITER).upper()


def describe_validation_error(error: ValidationError, *, config_path: Path | None = None) -> str:
    """One line per problem, naming the key as written in config.toml and in the environment."""
    lines = [_describe_problem(problem) for problem in error.errors()]
    if config_path is not None:
        lines.append(f"（配置文件：{config_path}）")
    return "\n".join(lines)


def describe_source_error(error: SourceParseError) -> str:
    """An environment value pydantic-settings could not decode, usually a list not written as JSON."""
    # Its message names only the section: 'error parsing value for field "legal_aid" from source …'.
    section = re.search(r'field "(\w+)"', str(error))
    where = f"{section[1]}（环境变量 {env_var_for(section[1])}__…）" if section else "环境变量"
    return (
        f"配置错误：{where}：cannot parse the value; write lists as JSON, e.g. '[1, 2]' ({error})"
    )


def _describe_problem(problem: ErrorDetails) -> str:
    key = _dotted_key(problem["loc"])
    field_key = ".".join(str(part) for part in problem["loc"] if isinstance(part, str))
    env_names = env_var_for(field_key)
    if field_key == "telegram.token":
        env_names += f" 或 {PLAIN_TOKEN_ENV}"
    reason = problem["msg"]
    if problem["type"] == "extra_forbidden":
        reason = f"unknown key ({reason})"
    elif field_key not in SECRET_KEYS and isinstance(problem["input"], str | int | float | bool):
        reason = f"{reason} (got {problem['input']!r})"
    return f"配置错误：{key or '(settings)'}（环境变量 {env_names}）：{reason}"


def _dotted_key(loc: tuple[int | str, ...]) -> str:
    # ("legal_aid", "staff_user_ids", 0) → legal_aid.staff_user_ids[0]
    key = ""
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else part)
    return key
