"""Typed configuration: ``config.toml`` read into one pydantic model per section.

The environment overrides the file (DESIGN §4). Secrets are ``SecretStr`` and never printed.
A wrong or missing value raises :class:`ConfigError` with one line naming the key.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import tomllib
from datetime import date, time
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bot.config_types import ClockTime, Crontab, IsoDate

DEFAULT_CONFIG_PATH = Path("config.toml")
TELEGRAM_WEBHOOK_PORTS = frozenset({443, 80, 88, 8443})  # the Bot API's rule for setWebhook
# where the Zalo Bot API serves the photos users send: every captured message.image.received carries a
# photo_url on https://photo-stal-<n>.zdn.vn/ (zadn.vn is seen only for stickers and avatars, which the bot
# does not fetch); a photo refused by this list is logged with its URL (add its host to zalo.photo_hosts)
ZALO_PHOTO_HOSTS = ("zdn.vn",)


# settings that once existed and now do nothing: an operator's old config.toml still starts, with a warning
RETIRED = {("telegram", "concurrent_updates"): "updates are handled from the inbox, one person's at a time"}


class ConfigError(Exception):
    """A configuration value is missing or wrong; the message is one line naming the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _conflict(key: str, message: str) -> PydanticCustomError:
    """An error of a check across sections, reported on ``key`` (see :func:`load_config`)."""
    return PydanticCustomError("config_conflict", message, {"key": key})


class DatabaseConfig(_Section):
    url: str = "sqlite+aiosqlite:///data/bot.sqlite3"
    echo: bool = False
    pool_size: int = Field(20, ge=1)  # PostgreSQL connections per worker (kept open; none beyond)

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
    max_message_chars: int = Field(4096, gt=0)
    invite_valid_days: int = Field(30, gt=0)
    term_years: float = Field(2.5, ge=2.5, le=5, multiple_of=2.5)  # a head's term: 2.5 or 5 (DESIGN §3)
    # /xuatfile, /tonghop and the weekly XLSX from this many villages up: built in a worker process, sent after
    offload_villages: int = Field(3000, ge=0)

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
    file_base_url: str | None = None  # default: api_base_url with /bot -> /file/bot
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None  # public https URL Telegram posts to
    webhook_path: str = "/telegram/webhook"  # route on our web server (behind the proxy)
    webhook_secret: SecretStr | None = None
    poll_timeout: int = Field(30, ge=0)
    rate_per_second: float = Field(30.0, gt=0)  # all chats together (Telegram: about 30 msg/s)
    chat_per_second: float = Field(1.0, gt=0)  # one chat, sustained (Telegram: about 1 msg/s)
    chat_burst: int = Field(3, ge=1)  # one chat, short burst (a reply of a few messages)
    max_retries: int = Field(3, ge=0)  # retries of a reply after 429 retry_after
    menu_commands: bool = True  # set the command menu (setMyCommands) on start

    @model_validator(mode="after")
    def _webhook_complete(self) -> TelegramConfig:
        if self.token is None or self.mode != "webhook":
            return self
        if not (self.webhook_url or "").startswith("https://"):
            raise ValueError("webhook mode needs webhook_url, an https:// URL")
        try:
            port = urlsplit(self.webhook_url).port or 443
        except ValueError as exc:
            raise ValueError(f"webhook_url is not a URL ({exc})") from None
        if port not in TELEGRAM_WEBHOOK_PORTS:
            raise ValueError(f"webhook_url: Telegram delivers only to ports 443, 80, 88 or 8443, not {port}")
        secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", secret):
            raise ValueError("webhook mode needs webhook_secret: 16-256 characters A-Z a-z 0-9 _ -")
        if not self.webhook_path.startswith("/"):
            raise ValueError("webhook_path must start with /")
        return self


class ZaloConfig(_Section):
    token: SecretStr | None = None
    api_base_url: str = "https://bot-api.zaloplatforms.com"
    # auto: the webhook when web.public_url is https (Zalo: "webhook in production"), else polling
    mode: Literal["auto", "polling", "webhook"] = "auto"
    webhook_url: str | None = None  # default: web.public_url + webhook_path
    webhook_secret: SecretStr | None = None  # default: a random secret per process start
    webhook_path: str = "/zalo/webhook"
    poll_timeout: int = Field(30, ge=0)
    poll_journal: bool = True  # polling: each update written to a local file the moment it is parsed
    files_dir: str = "data/files"  # exports and charts sent as links (Zalo bots cannot send documents)
    files_path: str = "/files"  # URL prefix of those links on the web server
    file_link_hours: float = Field(72.0, gt=0)  # a link (and its file) expires after this
    photos: bool = True  # send PNG/JPEG attachments with sendPhoto (needs a public https URL)
    # a received photo_url is fetched only over https from these hosts (or their subdomains): Zalo's CDN
    photo_hosts: list[str] = Field(default_factory=lambda: list(ZALO_PHOTO_HOSTS))
    photo_ca_file: str | None = None  # a CA to trust for those downloads beside the system's (a TLS proxy's)
    backoff_initial: float = Field(1.0, gt=0)  # seconds; doubled per failure, with jitter
    backoff_max: float = Field(60.0, gt=0)
    send_attempts: int = Field(5, gt=0)  # tries for a reply before it is handed to the outbox

    @field_validator("webhook_secret")
    @classmethod
    def _secret_length(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and v.get_secret_value() and not 8 <= len(v.get_secret_value()) <= 256:
            raise ValueError("must be 8-256 characters (a Zalo rule)")
        return v

    @field_validator("webhook_path", "files_path")
    @classmethod
    def _absolute_path(cls, v: str) -> str:
        if not v.startswith("/") or len(v) < 2:
            raise ValueError("must be a path starting with /, e.g. /zalo/webhook")
        return v.rstrip("/")


class WebConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    public_url: str | None = None  # how users' phones reach this server (links on Zalo)
    secret_key: SecretStr = SecretStr("dev-only-change-me")
    enabled: bool = True
    login_max_failures: int = Field(10, gt=0)  # failed logins per client address ...
    login_lockout_minutes: int = Field(15, gt=0)  # ... within this many minutes; then it waits them out
    # per account (any address): after this many failures each further try waits, doubling from 1 s ...
    login_slow_after: int = Field(3, gt=0)
    login_slow_max_seconds: float = Field(300.0, gt=0)  # ... up to this; a browser that logged in before skips it
    # proxies (addresses or networks) whose X-Forwarded-For / X-Forwarded-Proto are believed, e.g. nginx's
    trusted_proxies: list[str] = Field(default_factory=list)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, v: list[str]) -> list[str]:
        for item in v:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network (e.g. 127.0.0.1, 10.0.0.0/8)") from None
        return v
    chat_enabled: bool = True  # the /chat page lets anyone pick any web-chat account: a local demo

    @property
    def base_url(self) -> str:
        """How this server is reached: ``public_url``, else the address it listens on."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


class ReminderConfig(_Section):
    election_date: IsoDate = date(2024, 12, 15)  # campaign election day; per-village override in the DB
    election_grace_days: int = Field(1, ge=0)
    plan_congress_after_days: int = Field(7, ge=0)
    congress_soon_days: list[int] = [3, 1]
    congress_result_grace_days: int = Field(1, ge=0)
    probation_months: int = Field(12, gt=0)
    repeat_every_days: int = Field(2, gt=0)
    escalate_after: int = Field(3, gt=0)
    quiet_start: ClockTime = time(21, 0)  # local time (bot.timezone); reminders wait until quiet_end
    quiet_end: ClockTime = time(7, 0)
    probation_notice_days: int = Field(14, ge=0)  # remind this many days before the probation ends
    congress_deadline: IsoDate | None = None  # the province's default deadline for branch congresses


class SchedulerConfig(_Section):
    enabled: bool = True
    reminder_cron: Crontab = "0 8,15 * * *"  # crontab expressions, in bot.timezone
    digest_daily_cron: Crontab = "30 7 * * *"
    digest_weekly_cron: Crontab = "0 7 * * 1"
    outbox_drain_seconds: float = Field(5.0, gt=0)
    expiry_cron: Crontab = "*/30 * * * *"
    campaign_daily_digest: bool = True
    rate_per_second: float = Field(25.0, gt=0)
    max_attempts: int = Field(6, gt=0)
    per_chat_seconds: float = Field(1.0, ge=0)  # at most one message per chat this often
    backoff_seconds: float = Field(30.0, gt=0)  # first retry delay; doubles each attempt (max 1 h)
    lease_seconds: float = Field(300.0, gt=0)  # a claimed message is retried after this if its worker died
    reply_lease_seconds: float = Field(60.0, gt=0)  # the same for a reply its channel did not confirm sent
    campaign_end: IsoDate | None = None  # the daily digest stops after this day (weekly goes on)
    files_dir: str = "data/outbox"  # where digest charts and XLSX files wait to be sent
    misfire_grace_seconds: int = Field(3600, gt=0)
    leader_lease_seconds: float = Field(45.0, ge=6)  # PostgreSQL: a dead leader's jobs move on after this
    keep_processed_days: float = Field(7.0, gt=0)  # ids of handled messages, for redelivery dedupe
    keep_outbox_failed_days: float = Field(30.0, gt=0)  # outbox rows that ended dead or skipped


class GiaobanConfig(_Section):
    """The giao ban loop (DESIGN §3): invitations, the report window, the pack, directives' reminders."""

    invite_days_before: int = Field(7, ge=0)  # invitations go out this many days before a meeting
    report_window_days: int = Field(3, gt=0)  # /giaoban opens this many days before, closes at the start
    pack_time: ClockTime = time(18, 0)  # the pack goes to commune staff at this hour the day before
    ack_remind_days: int = Field(1, ge=0)  # a directive not acknowledged after this many days is reminded
    repeat_every_days: int = Field(2, gt=0)  # reminders repeat this often (also overdue tasks)
    escalate_after_days: int = Field(3, gt=0)  # then commune staff are told
    cron: Crontab = "*/15 * * * *"  # how often the scheduler looks at what is due


class BackupConfig(_Section):
    """Scheduled backups (``python -m bot backup`` by the scheduler's leader), the newest ``keep`` kept."""

    cron: Crontab | None = None  # e.g. "30 2 * * *" (bot.timezone); None: no scheduled backup
    dir: str = "data/backups"  # better on another disk, or copied off the machine (docs/van-hanh.md)
    keep: int = Field(14, ge=1)  # backups kept; older ones are deleted after each new one


class LogConfig(_Section):
    format: Literal["text", "json"] = "text"  # json: one object per line (``run --log-format`` overrides)
    access_log: bool = True  # one line per HTTP request (webhooks, pages, /metrics)


class Config(_Section):
    database: DatabaseConfig = DatabaseConfig()
    bot: BotConfig = BotConfig()
    telegram: TelegramConfig = TelegramConfig()
    zalo: ZaloConfig = ZaloConfig()
    web: WebConfig = WebConfig()
    reminders: ReminderConfig = ReminderConfig()
    scheduler: SchedulerConfig = SchedulerConfig()
    giaoban: GiaobanConfig = GiaobanConfig()
    backup: BackupConfig = BackupConfig()
    log: LogConfig = LogConfig()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.bot.timezone)

    @model_validator(mode="after")
    def _sections_agree(self) -> Config:
        """The checks that need more than one section; each error names the key to change."""
        if self.zalo.mode == "auto":  # the webhook wherever Zalo can reach us over https
            public = (self.web.public_url or "").startswith("https://") and self.web.enabled
            self.zalo.mode = "webhook" if public or self.zalo.webhook_url else "polling"
        if self.zalo.token is not None and self.zalo.mode == "webhook":
            if not (self.zalo.webhook_url or self.web.public_url):
                raise _conflict("zalo.webhook_url", "is needed when zalo.mode is webhook and web.public_url is not set")
            if not self.web.enabled:
                raise _conflict("web.enabled", "must be true when zalo.mode is webhook (the web server takes the "
                                               "updates)")
        if self.telegram.token is not None and self.telegram.mode == "webhook" and not self.web.enabled:
            raise _conflict("web.enabled", "must be true when telegram.mode is webhook (the web server takes the "
                                           "updates)")
        end, election = self.scheduler.campaign_end, self.reminders.election_date
        if end is not None and end < election:
            raise _conflict("scheduler.campaign_end", f"{end} is before reminders.election_date {election}; "
                                                      "to have no daily digest, set campaign_daily_digest = false")
        return self


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
    "WEB_CHAT_ENABLED": ("web", "chat_enabled"),
    "WEB_TRUSTED_PROXIES": ("web", "trusted_proxies"),  # comma-separated
    "BOT_PERIOD": ("bot", "period"),
    "BACKUP_CRON": ("backup", "cron"),
    "BACKUP_DIR": ("backup", "dir"),
    "BACKUP_KEEP": ("backup", "keep"),
    "LOG_FORMAT": ("log", "format"),
}

ENV_LISTS = frozenset({"WEB_TRUSTED_PROXIES"})  # a list in the file, comma-separated in the environment


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
    for (section, key), why in RETIRED.items():
        if isinstance(data.get(section), dict) and key in data[section]:
            del data[section][key]
            logging.getLogger(__name__).warning("config: %s.%s no longer does anything (%s); it is ignored",
                                                section, key, why)
    for var, (section, key) in ENV_OVERRIDES.items():
        value = env.get(var)
        if value is not None and value != "":
            data.setdefault(section, {})[key] = ([v.strip() for v in value.split(",") if v.strip()]
                                                 if var in ENV_LISTS else value)
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or str((err.get("ctx") or {}).get("key") or "(top level)")
        env_hint = next((v for v, sk in ENV_OVERRIDES.items() if ".".join(sk) == key), None)
        where = f"{key} (or ${env_hint})" if env_hint else key
        raise ConfigError(f"config: {where}: {err['msg']}") from None
