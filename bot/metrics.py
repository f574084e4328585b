"""What ``/metrics`` shows (Prometheus text format, prometheus_client).

Counted as it happens, in this process: dialog steps and their latency (``bot_steps_total``,
``bot_step_seconds``), sends by result (``bot_sends_total``: ok, 429, forbidden, failed, retry), the
scheduler's job runs and their time. Read from the database at each scrape (so every worker reports
the same queues): the inbox's pending updates and lag, the outbox's depth by status and the age of its
oldest waiting message. And this worker's scheduler role (leader, standby, single, off); with scheduled
backups, when the newest one on disk was written and its size (a restart does not forget it).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from models.delivery.queue_stats import QueueStats

REGISTRY = CollectorRegistry()
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
ROLES = ("leader", "standby", "single", "off")
SEND_RESULTS = ("ok", "429", "forbidden", "failed", "retry")

STEPS = Counter("bot_steps", "Incoming messages handled, one dialog step each", ["channel", "outcome"],
                registry=REGISTRY)
STEP_SECONDS = Histogram("bot_step_seconds", "Time to handle one incoming message (its transaction included)",
                         ["channel"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
                         registry=REGISTRY)
SENDS = Counter("bot_sends", "Messages sent to the platforms, by result (ok, 429, forbidden, failed, retry)",
                ["channel", "result"], registry=REGISTRY)
JOB_RUNS = Counter("bot_scheduler_job_runs", "Scheduler job runs, by result (ok, error)", ["job", "result"],
                   registry=REGISTRY)
JOB_SECONDS = Histogram("bot_scheduler_job_seconds", "Time of one scheduler job run", ["job"],
                        buckets=(0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 1800), registry=REGISTRY)
JOB_LAST_OK = Gauge("bot_scheduler_job_last_success_timestamp_seconds", "When each job last ran without error",
                    ["job"], registry=REGISTRY)
STARTED = Gauge("bot_start_time_seconds", "When this process started", registry=REGISTRY)
STARTED.set_to_current_time()


def observe_step(channel: str, outcome: str, seconds: float) -> None:
    """The dialog engine's hook: one incoming message handled (``ok``, ``transient``, ``error``)."""
    STEPS.labels(channel, outcome).inc()
    STEP_SECONDS.labels(channel).observe(seconds)


def count_send(channel: str, result: str) -> None:
    SENDS.labels(channel, result).inc()


def send_result_of_retry(error: str, retry_after: float | None) -> str:
    """A send that will be tried again: ``429`` when the platform said too many requests, else ``retry``."""
    if retry_after is not None or "429" in error or "too many requests" in error.lower() or "flood" in error.lower():
        return "429"
    return "retry"


def observe_job(job: str, ok: bool, seconds: float) -> None:
    """The scheduler's hook: one run of a job."""
    JOB_RUNS.labels(job, "ok" if ok else "error").inc()
    JOB_SECONDS.labels(job).observe(seconds)
    if ok:
        JOB_LAST_OK.labels(job).set(time.time())


class _Snapshot(Collector):
    """The gauges read from the database at a scrape (set just before the text is made)."""

    def __init__(self, stats: QueueStats | None, role: str, database_up: bool,
                 backup: tuple[float, int] | Literal[False] | None) -> None:
        self.stats, self.role, self.database_up, self.backup = stats, role, database_up, backup

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("bot_database_up", "1 when the database answered this scrape")
        up.add_metric([], 1.0 if self.database_up else 0.0)
        yield up
        if self.backup is not False:  # scheduled backups configured: the newest one on disk
            when = GaugeMetricFamily("bot_backup_newest_timestamp_seconds",
                                     "When the newest scheduled backup in [backup] dir was written (0: none yet)")
            size = GaugeMetricFamily("bot_backup_newest_bytes", "The size of the newest scheduled backup")
            when.add_metric([], self.backup[0] if self.backup else 0.0)
            size.add_metric([], float(self.backup[1]) if self.backup else 0.0)
            yield when
            yield size
        role = GaugeMetricFamily("bot_scheduler_role", "This worker's scheduler role (1 for the one it has)",
                                 labels=["role"])
        for name in ROLES:
            role.add_metric([name], 1.0 if name == self.role else 0.0)
        yield role
        leader = GaugeMetricFamily("bot_scheduler_leader", "1 while this worker runs the scheduler's jobs")
        leader.add_metric([], 1.0 if self.role in ("leader", "single") else 0.0)
        yield leader
        if self.stats is None:
            return
        s = self.stats
        pending = GaugeMetricFamily("bot_inbox_pending", "Updates received and not yet handled", labels=["channel"])
        lag = GaugeMetricFamily("bot_inbox_lag_seconds", "Age of the oldest update not yet handled",
                                labels=["channel"])
        for channel in sorted(set(s.inbox_pending) | {"telegram", "zalo"}):
            pending.add_metric([channel], float(s.inbox_pending.get(channel, 0)))
            lag.add_metric([channel], s.inbox_lag_seconds.get(channel, 0.0))
        yield pending
        yield lag
        depth = GaugeMetricFamily("bot_outbox_messages", "Outbox messages by status", labels=["status"])
        for status in sorted(set(s.outbox) | {"pending", "sending", "sent", "dead", "skipped"}):
            depth.add_metric([status], float(s.outbox.get(status, 0)))
        yield depth
        waiting = GaugeMetricFamily("bot_outbox_depth", "Outbox messages waiting to be sent (pending or sending)")
        waiting.add_metric([], float(s.outbox_waiting))
        yield waiting
        oldest = GaugeMetricFamily("bot_outbox_oldest_age_seconds", "Age of the oldest outbox message still waiting")
        oldest.add_metric([], s.outbox_oldest_seconds)
        yield oldest


def render(stats: QueueStats | None, role: str, database_up: bool,
           backup: tuple[float, int] | Literal[False] | None = False) -> bytes:
    """The whole text: this process's counters and the snapshot. ``backup``: the newest scheduled backup's
    time and size, None when there is none yet, False when no backup is scheduled."""
    snapshot = _Snapshot(stats, role, database_up, backup)
    return generate_latest(REGISTRY) + generate_latest(_Single(snapshot))


class _Single(CollectorRegistry):
    def __init__(self, collector: Collector) -> None:
        super().__init__(auto_describe=False)
        self.register(collector)
