"""The one error of the domain: a request breaks a rule a clerk would check (a report, a meeting, an
approval, a task). ``reason`` names the rule — the suffix of the catalog key that explains it."""

from __future__ import annotations


class Refused(ValueError):
    """A request that breaks a rule; nothing was changed. ``reason`` names the rule."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
