"""The PNG chart of a digest: progress by unit, one horizontal stacked bar per unit (worst on top).

Every unit is shown: the figure grows with the number of bars (a province's 54 communes are 54 bars);
past :data:`MAX_BARS` the best-placed tail is grouped into one bar "N đơn vị khác" with their counts
added — never dropped silently. Uses matplotlib's object API with the Agg canvas (no pyplot, no global
state, no display needed); matplotlib is imported on first use so that importing the handlers stays fast.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from models.progress.tallies import UnitProgress
from texts.catalog import t

MAX_BARS = 120
COLOURS = ("#2e7d32", "#90caf9", "#ef9a9a")  # merged, elected not merged, no election


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


def progress_chart(unit_name: str, lines: Sequence[UnitProgress], max_bars: int = MAX_BARS) -> bytes:
    """PNG bytes; ``lines`` worst first (as in the digest), every one of them drawn (see :func:`chart_bars`)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    bars = chart_bars(lines, max_bars)
    merged, elected, missing = zip(*(b.shares() for b in bars), strict=True) if bars else ((), (), ())
    height = max(2.5, 0.26 * len(bars) + 1.6)
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
    ax.set_title(t("digest.chart.title", unit=unit_name), fontsize=10)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.04 if len(bars) < 4 else 1.01), ncol=3, fontsize=8,
              frameon=False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
