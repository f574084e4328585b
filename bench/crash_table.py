"""The crash benchmark's closing table: a row per case — the database, the events (updates the
platform delivered), the replies received of those expected, what was lost, and the time from the
disturbance (a kill, a stop, a restart, the database's return) to the last answer it held up, beside
the lower bound deliberate pacing and leases set for it where they are not negligible."""

from __future__ import annotations

from dataclasses import dataclass

HEAD = ("case", "database", "events", "replies received/expected", "lost",
        "restart/kill → last receipt (floor)")


@dataclass
class Row:
    case: str
    database: str
    events: int
    received: int
    expected: int
    lost: int
    last: float | None  # seconds from the disturbance to the last answer it held up
    floor: float | None = None  # the least ``last`` could be: the pacing budget (and a lease's wait)
    lost_note: str = ""  # beside ``lost``: e.g. the updates Zalo's getUpdates gap took (resent by the head)
    twice: int = 0  # copies received again
    in_doubt: int = 0  # of those, copies of a message sent just before a kill, unmarked (at-least-once)

    def cells(self) -> list[str]:
        last = "—" if self.last is None else f"{self.last:.1f} s"
        if self.floor is not None:
            last += f" (≥ {self.floor:.1f} s)"
        lost = str(self.lost) + (f" {self.lost_note}" if self.lost_note else "")
        replies = f"{self.received}/{self.expected}"
        if self.twice:
            replies += f" +{self.twice} twice ({self.in_doubt} in doubt)"
        return [self.case, self.database, str(self.events), replies, lost, last]


def table(rows: list[Row]) -> str:
    lines = [list(HEAD)] + [row.cells() for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEAD))]
    out = [" | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in lines]
    out.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(out)
