"""Typed configuration: file, environment overrides, one clear line for a wrong value, secrets hidden."""

from __future__ import annotations

import logging
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import Config, ConfigError, load_config
from bot.settings import rules_from_config
from models.crontab import cron_trigger


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
    behind = load_config(f, env={"WEB_TRUSTED_PROXIES": "127.0.0.1, 172.16.0.0/12"})
    assert behind.web.trusted_proxies == ["127.0.0.1", "172.16.0.0/12"]
    with pytest.raises(ConfigError, match=r"web.trusted_proxies \(or \$WEB_TRUSTED_PROXIES\): .*'nginx'"):
        load_config(f, env={"WEB_TRUSTED_PROXIES": "nginx"})


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


# --- typed values: dates, quiet hours, crontab expressions, checks across sections ------------------------------

def _load(tmp_path: Path, content: str, env: dict[str, str] | None = None) -> Config:
    f = tmp_path / "c.toml"
    f.write_text(content, encoding="utf-8")
    return load_config(f, env=env or {})


def _refused(tmp_path: Path, content: str, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, content, env)
    message = str(err.value)
    assert "\n" not in message
    return message


def test_the_shipped_config_toml_loads_typed() -> None:
    cfg = load_config(Path(__file__).parents[2] / "config.toml", env={})
    assert cfg.reminders.election_date == date(2024, 12, 15)
    assert (cfg.reminders.quiet_start, cfg.reminders.quiet_end) == (time(21, 0), time(7, 0))
    assert cfg.scheduler.digest_weekly_cron == "0 7 * * 1" and cfg.scheduler.campaign_end is None


def test_dates_and_times_as_toml_values_or_strings(tmp_path: Path) -> None:
    native = _load(tmp_path, "[reminders]\nelection_date = 2025-01-05\nquiet_start = 22:30:00\nquiet_end = 06:15:00\n"
                             "[scheduler]\ncampaign_end = 2025-03-31\n")
    text = _load(tmp_path, '[reminders]\nelection_date = "2025-01-05"\nquiet_start = "22:30"\nquiet_end = "6:15"\n'
                           '[scheduler]\ncampaign_end = "2025-03-31"\n')
    for cfg in (native, text):
        assert cfg.reminders.election_date == date(2025, 1, 5) and cfg.scheduler.campaign_end == date(2025, 3, 31)
        assert (cfg.reminders.quiet_start, cfg.reminders.quiet_end) == (time(22, 30), time(6, 15))
    rules = rules_from_config(text.reminders)
    assert rules.election_date == date(2025, 1, 5) and rules.quiet_start == time(22, 30)


GOOD_CRONS = ["0 8,15 * * *", "*/30 * * * *", "0 7 * * 1", "0 7 * * 0", "0 7 * * 7", "0 7 * * MON-FRI",
              "0 7 * * sun,wed", "0 7 * * 1-5/2", "0 7 * * */2", "0 7 * * ?", "5-10/5 0-23/6 1,15 jan-jun *",
              "0 7 * * 5-7", "0 7 * * sat,sun,3"]


@pytest.mark.parametrize("cron", GOOD_CRONS)
def test_crontab_expressions_accepted_are_the_ones_the_scheduler_reads(tmp_path: Path, cron: str) -> None:
    keys = ("reminder_cron", "digest_daily_cron", "digest_weekly_cron", "expiry_cron")
    cfg = _load(tmp_path, "[scheduler]\n" + "".join(f'{k} = "{cron}"\n' for k in keys))
    assert all(getattr(cfg.scheduler, k) == cron for k in keys)  # stored as written
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    assert cron_trigger(cron, tz).get_next_fire_time(None, datetime(2025, 1, 13, tzinfo=tz)) is not None


@pytest.mark.parametrize(("content", "expected"), [
    ('[reminders]\nelection_date = "2024-13-45"\n', "config: reminders.election_date: "),
    ('[reminders]\nelection_date = "2025-02-29"\n', "config: reminders.election_date: "),
    ('[reminders]\nelection_date = "15/12/2024"\n', "config: reminders.election_date: "),
    ('[reminders]\nelection_date = "2024-W50-1"\n', "config: reminders.election_date: "),
    ('[reminders]\nelection_date = ""\n', "config: reminders.election_date: "),
    ("[reminders]\nelection_date = 20241215\n", "config: reminders.election_date: "),
    ("[reminders]\nelection_date = 2024-12-15T08:00:00\n", "config: reminders.election_date: "),
    ('[scheduler]\ncampaign_end = "2025-04-31"\n', "config: scheduler.campaign_end: "),
    ('[reminders]\nquiet_start = "25:00"\n', "config: reminders.quiet_start: "),
    ('[reminders]\nquiet_start = "21:60"\n', "config: reminders.quiet_start: "),
    ('[reminders]\nquiet_start = "9pm"\n', "config: reminders.quiet_start: "),
    ('[reminders]\nquiet_end = "07"\n', "config: reminders.quiet_end: "),
    ("[reminders]\nquiet_end = 7\n", "config: reminders.quiet_end: "),
    ('[scheduler]\nreminder_cron = "0 8 * *"\n', "config: scheduler.reminder_cron: "),
    ('[scheduler]\nreminder_cron = "0 8 * * * *"\n', "config: scheduler.reminder_cron: "),
    ('[scheduler]\ndigest_daily_cron = "61 7 * * *"\n', "config: scheduler.digest_daily_cron: "),
    ('[scheduler]\ndigest_daily_cron = "30 24 * * *"\n', "config: scheduler.digest_daily_cron: "),
    ('[scheduler]\ndigest_daily_cron = "30 7 32 * *"\n', "config: scheduler.digest_daily_cron: "),
    ('[scheduler]\ndigest_daily_cron = "30 7 * 13 *"\n', "config: scheduler.digest_daily_cron: "),
    ('[scheduler]\ndigest_daily_cron = "x 7 * * *"\n', "config: scheduler.digest_daily_cron: "),
    ('[scheduler]\nexpiry_cron = "*/0 * * * *"\n', "config: scheduler.expiry_cron: "),
    ('[scheduler]\ndigest_weekly_cron = "0 7 * * 8"\n', "config: scheduler.digest_weekly_cron: "),
    ('[scheduler]\ndigest_weekly_cron = "0 7 * * funday"\n', "config: scheduler.digest_weekly_cron: "),
    ('[scheduler]\ndigest_weekly_cron = "0 7 * * fri-mon"\n', "config: scheduler.digest_weekly_cron: "),
    ('[scheduler]\ndigest_weekly_cron = "0 7 * * 1/2"\n', "config: scheduler.digest_weekly_cron: "),
    ('[scheduler]\ndigest_weekly_cron = "0 7 * * */0"\n', "config: scheduler.digest_weekly_cron: "),
    ('[scheduler]\ndigest_weekly_cron = "0 7 * * 1,"\n', "config: scheduler.digest_weekly_cron: "),
    ("[scheduler]\nexpiry_cron = 30\n", "config: scheduler.expiry_cron: "),
])
def test_a_wrong_date_time_or_cron_is_refused_naming_the_key(tmp_path: Path, content: str, expected: str) -> None:
    assert _refused(tmp_path, content).startswith(expected)


def test_the_message_says_what_is_wrong(tmp_path: Path) -> None:
    assert "month must be in 1..12" in _refused(tmp_path, '[reminders]\nelection_date = "2024-13-45"\n')
    assert "HH:MM" in _refused(tmp_path, '[reminders]\nquiet_start = "25:00"\n')
    assert "five fields" in _refused(tmp_path, '[scheduler]\nreminder_cron = "0 8 * *"\n')
    assert "minute" in _refused(tmp_path, '[scheduler]\nreminder_cron = "61 8 * * *"\n')
    assert "day-of-week" in _refused(tmp_path, '[scheduler]\nreminder_cron = "0 8 * * 8"\n')


ZALO_HOOK = '[zalo]\ntoken = "1:z"\nmode = "webhook"\n'


@pytest.mark.parametrize(("content", "env", "expected"), [
    (ZALO_HOOK, {}, "config: zalo.webhook_url (or $ZALO_WEBHOOK_URL): is needed when zalo.mode is webhook"),
    ("", {"ZALO_BOT_TOKEN": "1:z", "ZALO_MODE": "webhook"}, "config: zalo.webhook_url (or $ZALO_WEBHOOK_URL):"),
    (ZALO_HOOK + 'webhook_url = "https://h/zalo/webhook"\n[web]\nenabled = false\n', {},
     "config: web.enabled: must be true when zalo.mode is webhook"),
    ("[web]\nenabled = false\n", {"ZALO_BOT_TOKEN": "1:z", "ZALO_MODE": "webhook", "WEB_PUBLIC_URL": "https://h"},
     "config: web.enabled: must be true when zalo.mode is webhook"),
    ("[web]\nenabled = false\n", {"TELEGRAM_BOT_TOKEN": "1:t", "TELEGRAM_MODE": "webhook",
                                  "TELEGRAM_WEBHOOK_URL": "https://h/telegram/webhook",
                                  "TELEGRAM_WEBHOOK_SECRET": "s" * 20},
     "config: web.enabled: must be true when telegram.mode is webhook"),
    ("[reminders]\nelection_date = 2025-01-05\n[scheduler]\ncampaign_end = 2025-01-04\n", {},
     "config: scheduler.campaign_end: 2025-01-04 is before reminders.election_date 2025-01-05"),
])
def test_sections_that_disagree_are_refused_naming_the_key(tmp_path: Path, content: str, env: dict[str, str],
                                                           expected: str) -> None:
    assert _refused(tmp_path, content, env).startswith(expected)


def test_sections_that_agree_are_accepted(tmp_path: Path) -> None:
    # the Zalo webhook URL from web.public_url (here from the environment), or its own key
    cfg = _load(tmp_path, ZALO_HOOK, {"WEB_PUBLIC_URL": "https://bot.example.vn"})
    assert cfg.zalo.mode == "webhook" and cfg.web.public_url == "https://bot.example.vn"
    cfg = _load(tmp_path, ZALO_HOOK, {"ZALO_WEBHOOK_URL": "https://bot.example.vn/zalo/webhook"})
    assert cfg.zalo.webhook_url == "https://bot.example.vn/zalo/webhook"
    # a channel without a token is not run: its mode needs nothing
    cfg = _load(tmp_path, '[zalo]\nmode = "webhook"\n[telegram]\nmode = "webhook"\n[web]\nenabled = false\n')
    assert cfg.zalo.token is None and not cfg.web.enabled
    # polling needs no web server; the campaign may end on its election day
    tokens = {"TELEGRAM_BOT_TOKEN": "1:t", "ZALO_BOT_TOKEN": "1:z"}
    cfg = _load(tmp_path, "[web]\nenabled = false\n[reminders]\nelection_date = 2025-01-05\n"
                          "[scheduler]\ncampaign_end = 2025-01-05\n", tokens)
    assert cfg.telegram.mode == cfg.zalo.mode == "polling" and cfg.scheduler.campaign_end == date(2025, 1, 5)


def test_zalo_uses_the_webhook_wherever_a_public_https_url_is_configured(tmp_path: Path) -> None:
    token = {"ZALO_BOT_TOKEN": "1:z"}
    shipped = Path(__file__).parents[2] / "config.toml"
    assert load_config(shipped, env={**token, "WEB_PUBLIC_URL": "https://bot.example.vn"}).zalo.mode == "webhook"
    assert load_config(shipped, env=token).zalo.mode == "polling"  # no public URL: Zalo cannot reach us
    assert _load(tmp_path, '[web]\npublic_url = "http://10.0.0.5:8080"\n', token).zalo.mode == "polling"  # not https
    assert _load(tmp_path, '[web]\npublic_url = "https://bot.example.vn"\n[zalo]\nmode = "polling"\n',
                 token).zalo.mode == "polling"  # asked for
    cfg = _load(tmp_path, '[web]\npublic_url = "https://bot.example.vn"\n', token)
    assert cfg.zalo.mode == "webhook" and cfg.zalo.poll_journal


def test_a_setting_that_no_longer_does_anything_is_ignored_with_a_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[telegram]\nconcurrent_updates = 32\nchat_burst = 2\n', encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="bot.config"):
        config = load_config(path, env={})
    assert config.telegram.chat_burst == 2  # the rest of the section still read
    assert any("telegram.concurrent_updates no longer does anything" in r.getMessage() for r in caplog.records)
    path.write_text('[telegram]\nconcurent_updates = 32\n', encoding="utf-8")  # a typo is still refused
    with pytest.raises(ConfigError, match="concurent_updates"):
        load_config(path, env={})
