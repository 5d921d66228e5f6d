"""Settings: defaults, config.toml, environment overrides, and errors that name the key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No POLICYBOT_* or TELEGRAM_BOT_TOKEN from the caller's shell, no ./config.toml."""
    for name in list(os.environ):
        if name.upper().startswith("POLICYBOT_") or name.upper() == "TELEGRAM_BOT_TOKEN":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policybot.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_for(config_path: Path | None = None, **overrides: object) -> str:
    with pytest.raises(SettingsError) as raised:
        load_settings(config_path, **overrides)
    return str(raised.value)


def test_defaults_without_a_file() -> None:
    settings = load_settings()

    assert settings.database.url == "sqlite:///data/policybot.db"
    assert settings.database.echo is False
    assert settings.telegram.token is None
    assert settings.telegram.base_url == "https://api.telegram.org/bot"
    assert settings.telegram.poll_timeout == 10
    assert settings.legal_aid.staff_user_ids == []
    assert settings.privacy.question_retention_days == 90
    assert settings.privacy.case_retention_days == 365
    assert settings.logging.level == "INFO"
    assert settings.logging.as_json is False
    assert settings.knowledge.extra_sources == []


def test_bundled_config_toml_states_the_defaults() -> None:
    # config.toml documents every key; it must load and say exactly what the code defaults are.
    assert load_settings(REPO_ROOT / "config.toml") == load_settings()


def test_values_come_from_the_toml_file(tmp_path: Path) -> None:
    source = tmp_path / "extra.txt"
    source.write_text("一、总体要求\n", encoding="utf-8")
    path = write_config(
        tmp_path,
        f"""
        [database]
        url = "postgresql://bot@db/policybot"
        echo = true
        [telegram]
        token = "123:abc"
        admin_user_ids = [7, 8]
        [legal_aid]
        staff_chat_id = -100123
        staff_user_ids = [42]
        [privacy]
        question_retention_days = 30
        [logging]
        level = "DEBUG"
        json = true
        [knowledge]
        extra_sources = ["{source}"]
        """,
    )

    settings = load_settings(path)

    assert settings.database.url == "postgresql://bot@db/policybot"
    assert settings.database.echo is True
    assert settings.telegram.token is not None
    assert settings.telegram.token.get_secret_value() == "123:abc"
    assert settings.telegram.admin_user_ids == [7, 8]
    assert settings.legal_aid.staff_chat_id == -100123
    assert settings.legal_aid.staff_user_ids == [42]
    assert settings.privacy.question_retention_days == 30
    assert settings.logging.level == "DEBUG"
    assert settings.logging.as_json is True
    assert settings.knowledge.extra_sources == [source]


def test_config_path_from_policybot_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config(tmp_path, '[telegram]\nusername = "from_env_path_bot"\n')
    monkeypatch.setenv("POLICYBOT_CONFIG", str(path))

    assert load_settings().telegram.username == "from_env_path_bot"


def test_config_toml_in_current_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[telegram]\nusername = "cwd_bot"\n', encoding="utf-8")

    assert load_settings().telegram.username == "cwd_bot"


def test_environment_beats_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config(
        tmp_path,
        """
        [database]
        url = "sqlite:///from-file.db"
        echo = true
        [telegram]
        base_url = "https://file.example/bot"
        [legal_aid]
        staff_user_ids = [1]
        """,
    )
    monkeypatch.setenv("POLICYBOT_DATABASE__URL", "sqlite:///from-env.db")
    monkeypatch.setenv("POLICYBOT_TELEGRAM__BASE_URL", "http://127.0.0.1:8081/bot")
    monkeypatch.setenv("POLICYBOT_LEGAL_AID__STAFF_USER_IDS", "[1, 2]")

    settings = load_settings(path)

    assert settings.database.url == "sqlite:///from-env.db"
    assert settings.database.echo is True  # the rest of the section still comes from the file
    assert settings.telegram.base_url == "http://127.0.0.1:8081/bot"
    assert settings.legal_aid.staff_user_ids == [1, 2]


def test_environment_names_are_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("policybot_logging__level", "WARNING")

    assert load_settings().logging.level == "WARNING"


def test_keyword_overrides_beat_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICYBOT_DATABASE__URL", "sqlite:///from-env.db")

    settings = load_settings(database={"url": "sqlite:///from-kwargs.db"})

    assert settings.database.url == "sqlite:///from-kwargs.db"


def test_telegram_bot_token_beats_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config(tmp_path, '[telegram]\ntoken = "from-file"\nusername = "file_bot"\n')
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:from-env")

    settings = load_settings(path)

    assert settings.telegram.token is not None
    assert settings.telegram.token.get_secret_value() == "123:from-env"
    assert settings.telegram.username == "file_bot"


def test_empty_telegram_bot_token_means_no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")

    assert load_settings().telegram.token is None


def test_secrets_are_not_printed() -> None:
    settings = load_settings(telegram={"token": "123:very-secret"})

    assert "very-secret" not in repr(settings)


def test_settings_are_frozen() -> None:
    settings = load_settings()

    with pytest.raises(ValueError, match="frozen"):
        settings.database.echo = True


def test_load_settings_returns_plain_settings(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, "[database]\necho = true\n"))

    assert type(settings) is Settings


def test_negative_retention_names_the_key(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[privacy]\nquestion_retention_days = -1\n")

    message = error_for(path)

    assert "privacy.question_retention_days" in message
    assert "POLICYBOT_PRIVACY__QUESTION_RETENTION_DAYS" in message
    assert "greater than or equal to 1" in message


def test_unknown_key_in_the_file_names_the_key(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[database]\nuri = "sqlite:///x.db"\n')

    message = error_for(path)

    assert "database.uri" in message
    assert "unknown key" in message


def test_unknown_section_in_the_file_is_an_error(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[telegarm]\nusername = 'x'\n")

    assert "telegarm" in error_for(path)


def test_bad_log_level_names_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICYBOT_LOGGING__LEVEL", "verbose")

    message = error_for()

    assert "logging.level" in message
    assert "POLICYBOT_LOGGING__LEVEL" in message


def test_unparsable_database_url_names_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICYBOT_DATABASE__URL", "not a url")

    message = error_for()

    assert message.startswith("配置错误：database.url（环境变量 POLICYBOT_DATABASE__URL）")
    assert "not a valid SQLAlchemy database URL" in message


def test_unsupported_database_is_an_error() -> None:
    assert "unsupported database 'mysql'" in error_for(database={"url": "mysql://x@h/db"})


def test_database_url_is_not_echoed_in_errors() -> None:
    # A URL may carry a password; the reason is enough without the value.
    message = error_for(database={"url": "mysql://bot:hunter2@h/db"})

    assert "hunter2" not in message


def test_broken_toml_names_the_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[database\nurl = 1\n")

    message = error_for(path)

    assert str(path) in message
    assert "TOML" in message


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    assert "找不到配置文件" in error_for(tmp_path / "missing.toml")


def test_staff_user_ids_not_json_names_the_section(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICYBOT_LEGAL_AID__STAFF_USER_IDS", "1,2")

    message = error_for()

    assert "legal_aid" in message
    assert "JSON" in message


def test_list_item_errors_name_the_position(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[telegram]\nadmin_user_ids = [1, "me"]\n')

    assert "telegram.admin_user_ids[1]" in error_for(path)


def test_missing_extra_source_is_an_error(tmp_path: Path) -> None:
    message = error_for(knowledge={"extra_sources": [str(tmp_path / "nope.txt")]})

    assert "knowledge.extra_sources[0]" in message


def test_non_positive_timeout_is_an_error() -> None:
    assert "telegram.read_timeout" in error_for(telegram={"read_timeout": 0})


def test_bad_webhook_secret_is_an_error() -> None:
    message = error_for(telegram={"webhook_secret": "has spaces"})

    assert "telegram.webhook_secret" in message
    assert "has spaces" not in message


def test_wechat_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICYBOT_WECHAT__TOKEN", "envToken123")
    monkeypatch.setenv("POLICYBOT_WECHAT__MODE", "plain")
    settings = load_settings(None)
    assert settings.wechat.token is not None
    assert settings.wechat.token.get_secret_value() == "envToken123"


@pytest.mark.parametrize("mode", ["compat", "safe"])
def test_encrypted_wechat_modes_need_the_aes_key(mode: str) -> None:
    with pytest.raises(SettingsError, match="encoding_aes_key"):
        load_settings(None, wechat={"token": "abc123", "appid": "wx1", "mode": mode})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("encoding_aes_key", "tooshort"),
        ("mode", "secure"),
        ("token", "has space"),
        ("reply_budget_seconds", 5),
    ],
)
def test_bad_wechat_values_stop_the_start(key: str, value: object) -> None:
    with pytest.raises(SettingsError, match=f"wechat.{key}"):
        load_settings(None, wechat={key: value})


def test_a_bad_aes_key_is_not_echoed() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(None, wechat={"encoding_aes_key": "secret-but-short"})
    assert "secret-but-short" not in str(error.value)
