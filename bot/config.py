"""Typed configuration: ``config.toml`` read into one pydantic model per section.

The environment overrides the file (DESIGN §4). Secrets are ``SecretStr`` and never printed.
A wrong or missing value raises :class:`ConfigError` with one line naming the key.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

DEFAULT_CONFIG_PATH = Path("config.toml")


class ConfigError(Exception):
    """A configuration value is missing or wrong; the message is one line naming the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatabaseConfig(_Section):
    url: str = "sqlite+aiosqlite:///data/bot.sqlite3"
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _known_driver(cls, v: str) -> str:
        if not v.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://", "postgresql://", "sqlite://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        if v.startswith("postgresql://"):
            v = "postgresql+asyncpg://" + v.removeprefix("postgresql://")
        if v.startswith("sqlite://") and not v.startswith("sqlite+aiosqlite://"):
            v = "sqlite+aiosqlite://" + v.removeprefix("sqlite://")
        return v


class BotConfig(_Section):
    period: Literal["post2025", "pre2025"] = "post2025"
    timezone: str = "Asia/Ho_Chi_Minh"
    conversation_timeout_days: float = Field(3.0, gt=0)
    max_message_chars: int = Field(2000, gt=0)
    invite_valid_days: int = Field(30, gt=0)

    @field_validator("timezone")
    @classmethod
    def _known_tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r}") from exc
        return v


class TelegramConfig(_Section):
    token: SecretStr | None = None
    api_base_url: str = "https://api.telegram.org/bot"
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None  # public https URL Telegram posts to
    webhook_secret: SecretStr | None = None
    poll_timeout: int = Field(30, ge=0)


class ZaloConfig(_Section):
    token: SecretStr | None = None
    api_base_url: str = "https://bot-api.zaloplatforms.com"
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    poll_timeout: int = Field(30, ge=0)


class WebConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    public_url: str | None = None  # how users' phones reach this server (links on Zalo)
    secret_key: SecretStr = SecretStr("dev-only-change-me")
    enabled: bool = True
    login_max_failures: int = Field(5, gt=0)
    login_lockout_minutes: int = Field(15, gt=0)


class ReminderConfig(_Section):
    election_date: str = "2024-12-15"  # campaign election day (ISO); per-village override in the DB
    election_grace_days: int = Field(1, ge=0)
    plan_congress_after_days: int = Field(7, ge=0)
    congress_soon_days: list[int] = [3, 1]
    congress_result_grace_days: int = Field(1, ge=0)
    probation_months: int = Field(12, gt=0)
    repeat_every_days: int = Field(2, gt=0)
    escalate_after: int = Field(3, gt=0)
    quiet_start: str = "21:00"
    quiet_end: str = "07:00"


class SchedulerConfig(_Section):
    enabled: bool = True
    reminder_cron: str = "0 8,15 * * *"
    digest_daily_cron: str = "30 7 * * *"
    digest_weekly_cron: str = "0 7 * * 1"
    outbox_drain_seconds: float = Field(5.0, gt=0)
    expiry_cron: str = "*/30 * * * *"
    campaign_daily_digest: bool = True
    rate_per_second: float = Field(25.0, gt=0)
    max_attempts: int = Field(6, gt=0)


class Config(_Section):
    database: DatabaseConfig = DatabaseConfig()
    bot: BotConfig = BotConfig()
    telegram: TelegramConfig = TelegramConfig()
    zalo: ZaloConfig = ZaloConfig()
    web: WebConfig = WebConfig()
    reminders: ReminderConfig = ReminderConfig()
    scheduler: SchedulerConfig = SchedulerConfig()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.bot.timezone)


# environment variable -> (section, key)
ENV_OVERRIDES: dict[str, tuple[str, str]] = {
    "DATABASE_URL": ("database", "url"),
    "TELEGRAM_BOT_TOKEN": ("telegram", "token"),
    "TELEGRAM_API_BASE_URL": ("telegram", "api_base_url"),
    "TELEGRAM_MODE": ("telegram", "mode"),
    "TELEGRAM_WEBHOOK_URL": ("telegram", "webhook_url"),
    "TELEGRAM_WEBHOOK_SECRET": ("telegram", "webhook_secret"),
    "ZALO_BOT_TOKEN": ("zalo", "token"),
    "ZALO_API_BASE_URL": ("zalo", "api_base_url"),
    "ZALO_MODE": ("zalo", "mode"),
    "ZALO_WEBHOOK_URL": ("zalo", "webhook_url"),
    "ZALO_WEBHOOK_SECRET": ("zalo", "webhook_secret"),
    "WEB_HOST": ("web", "host"),
    "WEB_PORT": ("web", "port"),
    "WEB_PUBLIC_URL": ("web", "public_url"),
    "WEB_SECRET_KEY": ("web", "secret_key"),
    "BOT_PERIOD": ("bot", "period"),
}


def load_config(path: Path | str | None = None, env: dict[str, str] | None = None) -> Config:
    """Read the TOML file (if it exists), apply environment overrides, validate."""
    env = dict(os.environ) if env is None else env
    file = Path(path) if path is not None else DEFAULT_CONFIG_PATH
    data: dict[str, Any] = {}
    if file.exists():
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: not valid TOML ({exc})") from None
    elif path is not None:
        raise ConfigError(f"{file}: config file not found")
    for var, (section, key) in ENV_OVERRIDES.items():
        value = env.get(var)
        if value is not None and value != "":
            data.setdefault(section, {})[key] = value
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        env_hint = next((v for v, sk in ENV_OVERRIDES.items() if ".".join(sk) == key), None)
        where = f"{key} (or ${env_hint})" if env_hint else key
        raise ConfigError(f"config: {where}: {err['msg']}") from None
