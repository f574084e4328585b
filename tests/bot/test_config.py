"""Typed configuration: file, environment overrides, one clear line for a wrong value, secrets hidden."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_config


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = load_config(env={})
    assert cfg.database.url.startswith("sqlite+aiosqlite:///")
    assert cfg.telegram.token is None and cfg.zalo.token is None
    assert cfg.web.port == 8080 and cfg.bot.timezone == "Asia/Ho_Chi_Minh"


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text('[web]\nport = 9000\n[telegram]\napi_base_url = "http://file"\n', encoding="utf-8")
    env = {"WEB_PORT": "9100", "TELEGRAM_API_BASE_URL": "http://127.0.0.1:1/bot", "TELEGRAM_BOT_TOKEN": "123:abc",
           "DATABASE_URL": "postgresql://u@h:5432/db", "ZALO_BOT_TOKEN": "9:z", "ZALO_API_BASE_URL": "http://z",
           "WEB_HOST": "0.0.0.0"}
    cfg = load_config(f, env=env)
    assert cfg.web.port == 9100 and cfg.web.host == "0.0.0.0"
    assert cfg.telegram.api_base_url == "http://127.0.0.1:1/bot" and cfg.zalo.api_base_url == "http://z"
    assert cfg.database.url == "postgresql+asyncpg://u@h:5432/db"
    assert cfg.telegram.token is not None and cfg.telegram.token.get_secret_value() == "123:abc"
    assert "123:abc" not in repr(cfg) and "123:abc" not in str(cfg.model_dump())


@pytest.mark.parametrize(("content", "env", "expected"), [
    ("[web]\nport = 70000\n", {}, "config: web.port (or $WEB_PORT):"),
    ("", {"WEB_PORT": "abc"}, "config: web.port (or $WEB_PORT): Input should be a valid integer"),
    ("[bot]\ntimezone = \"Mars/Base\"\n", {}, "config: bot.timezone:"),
    ("[database]\nurl = \"mysql://x\"\n", {}, "config: database.url (or $DATABASE_URL):"),
    ("[web]\nprot = 1\n", {}, "config: web.prot: Extra inputs are not permitted"),
    ("[web\n", {}, "not valid TOML"),
])
def test_a_wrong_value_is_one_clear_line(tmp_path: Path, content: str, env: dict[str, str], expected: str) -> None:
    f = tmp_path / "c.toml"
    f.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(f, env=env)
    message = str(err.value)
    assert expected in message and "\n" not in message


def test_a_named_file_that_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml", env={})
