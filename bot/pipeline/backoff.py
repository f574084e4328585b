"""Exponential backoff with jitter, for every retry loop of the pipeline and the channels' polling."""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    """"Equal jitter": the n-th delay lies in [d/2, d], d = initial·2ⁿ ≤ maximum."""

    def __init__(self, initial: float = 1.0, maximum: float = 60.0,
                 rng: Callable[[], float] = random.random) -> None:
        self.initial, self.maximum, self.rng = initial, maximum, rng
        self.failures = 0

    def next(self, floor: float = 0.0) -> float:
        """The next delay, at least ``floor`` (a platform's ``retry_after``) but never above the maximum."""
        ceiling = min(self.maximum, self.initial * 2.0 ** min(self.failures, 32))
        self.failures += 1
        return min(self.maximum, max(floor, ceiling / 2 + self.rng() * ceiling / 2))

    def reset(self) -> None:
        self.failures = 0
