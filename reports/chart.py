"""The PNG chart of a digest: progress by unit, one horizontal stacked bar per unit (worst on top) — or,
for a commune (whose units are its villages: a 100 % bar each would say nothing), its villages counted
by status, one bar per status. The legend sits under the plot, clear of the title.

Every unit is shown: the figure grows with the number of bars (a province's 54 communes are 54 bars);
past :data:`MAX_BARS` the best-placed tail is grouped into one bar "N đơn vị khác" with their counts
added — never dropped silently. Uses matplotlib's object API with the Agg canvas (no pyplot, no global
state, no display needed); matplotlib is imported on first use so that importing the handlers stays fast.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from models.progress.status import STATUSES
from models.progress.tallies import UnitProgress
from texts.catalog import t

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MAX_BARS = 120
COLOURS = ("#2e7d32", "#90caf9", "#ef9a9a")  # merged, elected not merged, no election
STATUS_COLOURS = {"merged": "#2e7d32", "merger_pending": "#66bb6a", "congress_planned": "#90caf9",
                  "elected_member": "#64b5f6", "elected_probationary": "#b39ddb", "elected_non_member": "#ce93d8",
                  "not_merged": "#bdbdbd", "congress_overdue": "#ef6c00", "revote_needed": "#e57373",
                  "no_election": "#c62828"}


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: a unit (or the grouped tail) with its village counts."""

    label: str
    villages: int
    merged: int
    elected: int  # merged included
    units: int = 1  # how many units the bar stands for

    def shares(self) -> tuple[float, float, float]:
        """Percent of villages merged, elected but not merged, without an election result."""
        n = self.villages or 1
        return (100.0 * self.merged / n, 100.0 * (self.elected - self.merged) / n,
                100.0 * (self.villages - self.elected) / n)


def chart_bars(lines: Sequence[UnitProgress], max_bars: int = MAX_BARS) -> list[Bar]:
    """The bars for ``lines`` (worst first): one per unit; with more than ``max_bars`` units the last ones
    become a single bar that names how many units it groups."""
    bars = [Bar(f"{p.name or p.code} ({p.villages})", p.villages, p.merged, p.elected) for p in lines]
    if len(bars) <= max_bars:
        return bars
    head, tail = bars[: max_bars - 1], bars[max_bars - 1:]
    villages = sum(b.villages for b in tail)
    return [*head, Bar(t("digest.chart.others", count=len(tail), villages=villages), villages,
                       sum(b.merged for b in tail), sum(b.elected for b in tail), len(tail))]


def is_villages(lines: Sequence[UnitProgress]) -> bool:
    """Whether ``lines`` are villages (a commune's digest): one village each."""
    return bool(lines) and all(p.villages == 1 for p in lines)


def status_counts(lines: Sequence[UnitProgress]) -> list[tuple[str, int]]:
    """(status, villages) in the order of the statuses, those with none left out."""
    counts = {s: sum(p.by_status.get(s, 0) for p in lines) for s in STATUSES}
    return [(s, n) for s, n in counts.items() if n]


def progress_chart(unit_name: str, lines: Sequence[UnitProgress], max_bars: int = MAX_BARS) -> bytes:
    """PNG bytes; ``lines`` worst first (as in the digest), every one of them drawn (see :func:`chart_bars`);
    a commune's villages as a count by status (:func:`status_chart`)."""
    if is_villages(lines):
        return status_chart(unit_name, status_counts(lines))
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    bars = chart_bars(lines, max_bars)
    merged, elected, missing = zip(*(b.shares() for b in bars), strict=True) if bars else ((), (), ())
    height = max(2.8, 0.26 * len(bars) + 2.0)
    fig = Figure(figsize=(8.0, height), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ys = list(range(len(bars)))[::-1]  # first line (the worst) at the top
    ax.barh(ys, merged, color=COLOURS[0], label=t("digest.chart.merged"))
    ax.barh(ys, elected, left=merged, color=COLOURS[1], label=t("digest.chart.elected"))
    left = [a + b for a, b in zip(merged, elected, strict=True)]
    ax.barh(ys, missing, left=left, color=COLOURS[2], label=t("digest.chart.missing"))
    ax.set_yticks(ys, [b.label for b in bars], fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.6, len(bars) - 0.4)
    ax.set_xlabel(t("digest.chart.axis"))
    ax.set_title(t("digest.chart.title", unit=unit_name), fontsize=10, pad=10)
    fig.legend(*ax.get_legend_handles_labels(), loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.35 / height, 1, 1))  # room under the plot for the legend, clear of the title
    return _png(fig)


def status_chart(unit_name: str, counts: Sequence[tuple[str, int]]) -> bytes:
    """A commune's villages by status: one bar per status, its count written at its end."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    total = sum(n for _, n in counts) or 1
    height = max(2.4, 0.42 * len(counts) + 1.4)
    fig = Figure(figsize=(8.0, height), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ys = list(range(len(counts)))[::-1]
    values = [n for _, n in counts]
    ax.barh(ys, values, color=[STATUS_COLOURS.get(s, "#90a4ae") for s, _ in counts])
    for y, n in zip(ys, values, strict=True):
        ax.text(n, y, f" {n} ({round(100 * n / total)}%)", va="center", fontsize=8)
    ax.set_yticks(ys, [t(f"status.{s}") for s, _ in counts], fontsize=8)
    ax.set_xlim(0, max(values, default=1) * 1.25)
    ax.set_ylim(-0.6, len(counts) - 0.4)
    ax.set_xlabel(t("digest.chart.villages_axis"))
    ax.set_title(t("digest.chart.status_title", unit=unit_name, n=total), fontsize=10, pad=10)
    fig.tight_layout()
    return _png(fig)


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
