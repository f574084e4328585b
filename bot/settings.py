"""The configuration turned into the settings each part sees (the parts never read ``Config``)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.config import Config, GiaobanConfig, ReminderConfig
from bot.delivery import DrainPolicy
from handlers.context import Settings
from models.giaoban.rules import GiaobanRules
from models.reminders.rules import Rules
from scheduler import SchedulerSettings


def rules_from_config(cfg: ReminderConfig) -> Rules:
    return Rules(election_date=cfg.election_date, election_grace_days=cfg.election_grace_days,
                 plan_congress_after_days=cfg.plan_congress_after_days,
                 congress_soon_days=tuple(cfg.congress_soon_days),
                 congress_result_grace_days=cfg.congress_result_grace_days, probation_months=cfg.probation_months,
                 probation_notice_days=cfg.probation_notice_days, repeat_every_days=cfg.repeat_every_days,
                 escalate_after=cfg.escalate_after, quiet_start=cfg.quiet_start,
                 quiet_end=cfg.quiet_end, congress_deadline=cfg.congress_deadline)


def giaoban_rules(cfg: GiaobanConfig) -> GiaobanRules:
    return GiaobanRules(invite_days_before=cfg.invite_days_before, report_window_days=cfg.report_window_days,
                        pack_time=cfg.pack_time, ack_remind_days=cfg.ack_remind_days,
                        repeat_every_days=cfg.repeat_every_days, escalate_after_days=cfg.escalate_after_days)


def engine_settings(config: Config) -> Settings:
    """The part of the config the conversations see."""
    return Settings(tz=config.tz, period=config.bot.period,
                    conversation_timeout=timedelta(days=config.bot.conversation_timeout_days),
                    max_message_chars=config.bot.max_message_chars,
                    campaign_election_date=config.reminders.election_date,
                    invite_valid_days=config.bot.invite_valid_days, public_url=config.web.public_url,
                    reminder_rules=rules_from_config(config.reminders), giaoban=giaoban_rules(config.giaoban),
                    reply_lease=timedelta(seconds=config.scheduler.reply_lease_seconds),
                    term_months=round(config.bot.term_years * 12), offload_villages=config.bot.offload_villages)


def scheduler_settings(config: Config) -> SchedulerSettings:
    cfg = config.scheduler
    return SchedulerSettings(
        tz=config.tz, period=config.bot.period, rules=rules_from_config(config.reminders),
        files_dir=Path(cfg.files_dir), reminder_cron=cfg.reminder_cron, digest_daily_cron=cfg.digest_daily_cron,
        digest_weekly_cron=cfg.digest_weekly_cron, expiry_cron=cfg.expiry_cron,
        outbox_drain_seconds=cfg.outbox_drain_seconds, campaign_daily_digest=cfg.campaign_daily_digest,
        campaign_end=cfg.campaign_end,
        misfire_grace_seconds=cfg.misfire_grace_seconds, keep_processed=timedelta(days=cfg.keep_processed_days),
        keep_outbox_failed=timedelta(days=cfg.keep_outbox_failed_days), giaoban=giaoban_rules(config.giaoban),
        giaoban_cron=config.giaoban.cron, public_url=config.web.public_url or config.web.base_url,
        offload_villages=config.bot.offload_villages, backup_cron=config.backup.cron)


def drain_policy(config: Config) -> DrainPolicy:
    cfg = config.scheduler
    return DrainPolicy(max_attempts=cfg.max_attempts, backoff_base=timedelta(seconds=cfg.backoff_seconds),
                       lease=timedelta(seconds=cfg.lease_seconds))
