"""Waiting on a condition in tests: loop until it holds, never a fixed sleep before an assertion.

``WAIT`` is a safety net against a hang (a broken test fails instead of blocking the run), not a
time limit on the code under test: a healthy run meets each condition in milliseconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

WAIT = 60.0


async def until(condition: Callable[[], object], what: str, wait: float = WAIT) -> None:
    """Return as soon as ``condition()`` is true; fail with ``what`` if it never becomes true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while not condition():
        assert loop.time() < deadline, f"never happened: {what}"
        await asyncio.sleep(0.01)
