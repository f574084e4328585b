"""A repeating task while the database is away: one line when it starts failing (no traceback for a
database that does not answer, one for anything else), a reminder a minute with the count, one line when
it works again."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.exc import OperationalError

from models.outage import Outage, is_unreachable

log = logging.getLogger("tests.outage")


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, bool]]:
    return [(r.getMessage(), r.exc_info is not None) for r in caplog.records if r.name == "tests.outage"]


def test_one_line_a_minute_while_it_fails(caplog: pytest.LogCaptureFixture) -> None:
    ticks = Ticks()
    outage = Outage(log, "polling", clock=ticks)
    refused = ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 1)")
    with caplog.at_level(logging.INFO, logger="tests.outage"):
        for _ in range(5):
            outage.failed(refused)
            ticks.now += 1
        assert lines(caplog) == [("polling failed: ConnectionRefusedError: [Errno 111] Connect call failed "
                                  "('127.0.0.1', 1)", False)]
        ticks.now += 60
        outage.failed(refused)
        assert lines(caplog)[-1] == ("polling failed: ConnectionRefusedError: [Errno 111] Connect call failed "
                                     "('127.0.0.1', 1) (5 failures since the last line)", False)
        outage.ok()
        outage.ok()
        assert [m for m, _ in lines(caplog)][2:] == ["polling works again after 6 failed tries"]

        caplog.clear()
        outage.failed(ValueError("a bug"))  # not the database: its traceback, once
        outage.failed(ValueError("a bug"))
        outage.failed(OperationalError("SELECT 1", {}, ConnectionResetError("reset by peer")))
        assert lines(caplog) == [("polling failed: ValueError: a bug", True),
                                 ("polling failed: ConnectionResetError: reset by peer", False)]
    assert is_unreachable(TimeoutError()) and not is_unreachable(KeyError("x"))

