"""The bot's settings: defaults < config.toml < environment < keyword overrides, validated once.

`load_settings()` is called once by the entry point and the resulting `Settings` is passed down;
nothing reads the environment or the file anywhere else. Any mistake — a typo'd key, a value out of
range, a broken TOML file — becomes one `SettingsError` whose message names the key as the operator
writes it (`database.url`, `POLICYBOT_DATABASE__URL`), so a bad config stops the process at start.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    FilePath,
    IPvAnyNetwork,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from pydantic_settings import SettingsError as SourceParseError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.settings_errors import (
    ENV_NESTED_DELIMITER,
    ENV_PREFIX,
    PLAIN_TOKEN_ENV,
    describe_source_error,
    describe_validation_error,
)

CONFIG_PATH_ENV = "POLICYBOT_CONFIG"
DEFAULT_CONFIG_FILE = Path("config.toml")
SUPPORTED_DATABASES = ("sqlite", "postgresql")
# Telegram's rule for the X-Telegram-Bot-Api-Secret-Token header.
WEBHOOK_SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
WechatMode = Literal["plain", "compat", "safe"]
# WeChat's rules: the token is 3-32 letters and digits; the AES key is 43 base64 characters.
WECHAT_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9]{3,32}")
WECHAT_AES_KEY_PATTERN = re.compile(r"[A-Za-z0-9+/]{43}")


class SettingsError(Exception):
    """The configuration cannot be used; the message is written for the operator."""


class Section(BaseModel):
    """A `[section]` of config.toml: unknown keys are errors, values never change after start."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(Section):
    url: str = "sqlite:///data/policybot.db"
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _is_supported_database_url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError as error:
            raise ValueError(f"not a valid SQLAlchemy database URL ({error})") from None
        if url.get_backend_name() not in SUPPORTED_DATABASES:
            raise ValueError(
                f"unsupported database '{url.get_backend_name()}'; use sqlite or postgresql"
            )
        return value


class TelegramSettings(Section):
    # Also read from the plain TELEGRAM_BOT_TOKEN variable (see PlainTelegramTokenSource).
    token: SecretStr | None = None
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    username: str = ""
    admin_user_ids: list[int] = []
    webhook_secret: SecretStr | None = None
    # 0 is legal: Telegram then answers getUpdates at once (short polling).
    poll_timeout: float = Field(default=10, ge=0)
    connect_timeout: float = Field(default=5, gt=0)
    read_timeout: float = Field(default=10, gt=0)

    @field_validator("token", "webhook_secret")
    @classmethod
    def _blank_secret_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        # `TELEGRAM_BOT_TOKEN=` in a shell or compose file means "no token", not an empty one.
        if value is None or not value.get_secret_value().strip():
            return None
        return SecretStr(value.get_secret_value().strip())

    @field_validator("webhook_secret")
    @classmethod
    def _is_valid_webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not WEBHOOK_SECRET_PATTERN.fullmatch(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("base_url", "base_file_url")
    @classmethod
    def _is_http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// or http://")
        return value


class WechatSettings(Section):
    """The Official Account (公众号) callback; the /wechat route exists only with a token."""

    token: SecretStr | None = None
    appid: str = ""
    # Only for sending late answers as customer-service messages (the access token needs it).
    appsecret: SecretStr | None = None
    encoding_aes_key: SecretStr | None = None
    mode: WechatMode = "plain"
    api_base_url: str = "https://api.weixin.qq.com"
    # WeChat gives up after 5 s; past this budget we reply "success" and send the answer later.
    reply_budget_seconds: float = Field(default=4.5, ge=0, le=4.8)
    # A signed request whose timestamp is further than this from our clock is refused (a replay);
    # receipts are kept at least twice as long, so a replay within the window is a known retry.
    timestamp_window_seconds: int = Field(default=300, ge=30, le=86_400)

    @field_validator("token", "encoding_aes_key", "appsecret")
    @classmethod
    def _blank_secret_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        return SecretStr(value.get_secret_value().strip())

    @field_validator("token")
    @classmethod
    def _is_valid_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not WECHAT_TOKEN_PATTERN.fullmatch(value.get_secret_value()):
            raise ValueError("must be 3-32 letters and digits (as set on the WeChat admin page)")
        return value

    @field_validator("encoding_aes_key")
    @classmethod
    def _is_valid_aes_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not WECHAT_AES_KEY_PATTERN.fullmatch(value.get_secret_value()):
            raise ValueError("must be exactly 43 characters of A-Z, a-z, 0-9, + and /")
        return value

    @field_validator("api_base_url")
    @classmethod
    def _is_http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// or http://")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _encrypted_modes_have_key_and_appid(self) -> WechatSettings:
        if self.mode != "plain" and (self.encoding_aes_key is None or not self.appid):
            raise ValueError(f"mode '{self.mode}' needs encoding_aes_key (43 characters) and appid")
        return self


class WebChatSettings(Section):
    """The mobile web chat at /chat; limits count requests per minute, per process."""

    requests_per_minute_per_session: int = Field(default=30, ge=1)
    requests_per_minute_per_ip: int = Field(default=120, ge=1)
    # Reverse proxies (addresses or networks) whose X-Forwarded-For is believed; none by default,
    # so a forged header cannot dodge the per-IP limit.
    trusted_proxies: list[IPvAnyNetwork] = []


class LegalAidSettings(Section):
    staff_chat_id: int | None = None
    staff_user_ids: list[int] = []
    # A referral left half-filled this long is dropped with what was typed into it.
    flow_timeout_minutes: int = Field(default=30, ge=1, le=1440)


class PrivacySettings(Section):
    question_retention_days: int = Field(default=90, ge=1, le=3650)
    case_retention_days: int = Field(default=365, ge=1, le=3650)
    # HMAC key for user keys; when unset the app keeps a generated one in the database.
    user_key_secret: SecretStr | None = None


class LoggingSettings(Section):
    level: LogLevel = "INFO"
    # `json` is the key operators write; the attribute can't be `json` (BaseModel.json exists).
    as_json: bool = Field(default=False, alias="json")

    @field_validator("level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class KnowledgeSettings(Section):
    # Relative paths resolve against the current directory; a missing file stops the start.
    extra_sources: list[FilePath] = []


class BroadcastSettings(Section):
    # Telegram allows 30 messages/s overall; a little under it absorbs network jitter.
    messages_per_second: float = Field(default=28.5, gt=0, le=30)
    per_chat_seconds: float = Field(default=1.0, ge=1.0)
    max_attempts: int = Field(default=6, ge=1, le=20)


class SendersSettings(Section):
    """The background senders (outbox, broadcasts, job digests), which every process runs."""

    # How long a sender holds the rows it claimed: another process takes them over only after
    # it. Each row's lease is renewed just before its send, so it must only outlast one send
    # (bounded by the HTTP timeouts, ~15 s); a killed process's rows wait this long.
    lease_seconds: float = Field(default=60, ge=1, le=3600)


class ConsoleSettings(Section):
    """The staff console at /console (served with the web chat)."""

    # A session unused this long signs out; none lasts longer than session_hours.
    idle_timeout_minutes: int = Field(default=30, ge=1, le=1440)
    session_hours: int = Field(default=12, ge=1, le=720)
    # The cookie's Secure flag: "auto" sets it when the request came over HTTPS (uvicorn reads
    # X-Forwarded-Proto from a proxy on the same machine); "always" or "never" force it.
    secure_cookie: Literal["auto", "always", "never"] = "auto"
    # Failed sign-ins allowed per account name and per address within the window.
    login_failures_per_account: int = Field(default=5, ge=1)
    login_failures_per_address: int = Field(default=20, ge=1)
    login_window_minutes: int = Field(default=15, ge=1, le=1440)
    # How often each process looks whether curators changed the knowledge base (seconds).
    knowledge_check_seconds: float = Field(default=5, gt=0, le=3600)


class JobsSettings(Section):
    # The Tianjin hour the daily digest goes out (inside 08:00-21:00: never at night).
    digest_hour: int = Field(default=10, ge=8, le=20)
    digest_max_postings: int = Field(default=5, ge=1, le=10)
    # How often the digest sender looks for due digests.
    check_seconds: float = Field(default=60, gt=0, le=3600)


class RedisSettings(Section):
    """Redis shared by every process: rate limits, Telegram's send pace, WeChat de-duplication.
    Without a URL each process keeps these in its own memory (right for one process only)."""

    url: str | None = None
    key_prefix: str = Field(default="policybot", min_length=1, max_length=64)

    @field_validator("url")
    @classmethod
    def _is_redis_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value.strip()


class Settings(BaseSettings):
    """Everything the bot can be configured with; build it with `load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED_DELIMITER,
        case_sensitive=False,
        extra="forbid",
        frozen=True,
    )

    database: DatabaseSettings = DatabaseSettings()
    telegram: TelegramSettings = TelegramSettings()
    legal_aid: LegalAidSettings = LegalAidSettings()
    privacy: PrivacySettings = PrivacySettings()
    logging: LoggingSettings = LoggingSettings()
    knowledge: KnowledgeSettings = KnowledgeSettings()
    wechat: WechatSettings = WechatSettings()
    web_chat: WebChatSettings = WebChatSettings()
    broadcast: BroadcastSettings = BroadcastSettings()
    senders: SendersSettings = SendersSettings()
    console: ConsoleSettings = ConsoleSettings()
    jobs: JobsSettings = JobsSettings()
    redis: RedisSettings = RedisSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Highest priority first. No .env file and no secrets dir: the environment is enough.
        return (
            init_settings,
            env_settings,
            PlainTelegramTokenSource(settings_cls),
            TomlConfigSettingsSource(settings_cls),
        )


class PlainTelegramTokenSource(PydanticBaseSettingsSource):
    """`TELEGRAM_BOT_TOKEN`, the name BotFather guides and hosting platforms use."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        # Only __call__ is used; this source provides one nested value, not whole fields.
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        token = os.environ.get(PLAIN_TOKEN_ENV, "")
        return {"telegram": {"token": token}} if token.strip() else {}


def default_config_path() -> Path | None:
    """$POLICYBOT_CONFIG if set, else ./config.toml if it exists, else None (defaults only)."""
    configured = os.environ.get(CONFIG_PATH_ENV, "").strip()
    if configured:
        return Path(configured)
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def load_settings(config_path: Path | None = None, **overrides: Any) -> Settings:
    """Read, merge and validate the settings once; every problem becomes a SettingsError.

    `overrides` are whole sections as keyword arguments, e.g. `database={"url": "sqlite://"}`;
    they win over the environment, which wins over the TOML file, which wins over the defaults.
    """
    path = config_path if config_path is not None else default_config_path()
    if path is not None:
        _check_readable_toml(path)
    settings_class = _settings_class_reading(path)
    try:
        loaded = settings_class(**overrides)
    except ValidationError as error:
        raise SettingsError(describe_validation_error(error, config_path=path)) from None
    except SourceParseError as error:
        # pydantic-settings could not decode an environment value (e.g. a list that isn't JSON).
        raise SettingsError(describe_source_error(error)) from None
    # Hand back a plain Settings, not the per-call subclass, so it pickles and prints plainly.
    return Settings.model_construct(
        _fields_set=loaded.model_fields_set,
        **{name: getattr(loaded, name) for name in Settings.model_fields},
    )


def _settings_class_reading(path: Path | None) -> type[Settings]:
    # TomlConfigSettingsSource takes its path from model_config, so each path gets a subclass.
    if path is None:
        return Settings

    class SettingsFromFile(Settings):
        model_config = SettingsConfigDict(toml_file=path)

    return SettingsFromFile


def _check_readable_toml(path: Path) -> None:
    # pydantic-settings skips a missing file silently; a path the operator gave must exist.
    try:
        tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"配置错误：找不到配置文件 {path}（config file not found）") from None
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsError(f"配置错误：无法读取配置文件 {path}：{error}") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"配置错误：配置文件 {path} 不是有效的 TOML：{error}") from None
