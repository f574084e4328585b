"""A task that repeats against the database (a lease renewed, a queue polled) while the database is away:
one log line when it starts failing, the same failure again at most once a minute with how often it
happened, and one line when it works again. A database that does not answer is said in one line, without
a traceback; any other error keeps its traceback the first time it is seen."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from sqlalchemy.exc import DBAPIError

REMIND_SECONDS = 60.0


def _reason(exc: BaseException) -> str:
    root: BaseException = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = next((ln.strip() for ln in str(root).splitlines() if ln.strip()), "")
    return f"{type(root).__name__}: {text}" if text else type(root).__name__


def is_unreachable(exc: BaseException) -> bool:
    """The database (or the network to it) did not answer: not a bug, no traceback needed."""
    root = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    return (isinstance(root, (OSError, TimeoutError, ConnectionError))
            or type(root).__module__.split(".")[0] == "asyncpg"
            or (isinstance(exc, DBAPIError) and exc.connection_invalidated))


class Outage:
    """The log lines of one repeating task; ``failed(exc)`` after a failed try, ``ok()`` after one that worked."""

    def __init__(self, log: logging.Logger, what: str, remind_seconds: float = REMIND_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.log, self.what, self.remind_seconds, self.clock = log, what, remind_seconds, clock
        self.failures = 0  # since the last success
        self._said: str | None = None
        self._said_at = 0.0
        self._since_said = 0

    def failed(self, exc: BaseException) -> None:
        self.failures += 1
        reason = _reason(exc)
        now = self.clock()
        if reason == self._said and now - self._said_at < self.remind_seconds:
            self._since_said += 1
            return
        again = f" ({self._since_said + 1} failures since the last line)" if reason == self._said else ""
        self.log.warning("%s failed: %s%s", self.what, reason, again,
                         exc_info=None if is_unreachable(exc) or reason == self._said else exc)
        self._said, self._said_at, self._since_said = reason, now, 0

    def ok(self) -> None:
        if self.failures:
            self.log.info("%s works again after %d failed tries", self.what, self.failures)
        self.failures, self._said, self._since_said = 0, None, 0
