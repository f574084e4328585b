"""The PNG chart of a digest: progress by unit, one horizontal stacked bar per unit (worst on top).

Uses matplotlib's object API with the Agg canvas (no pyplot, no global state, no display needed);
matplotlib is imported on first use so that importing the handlers stays fast.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from models.progress import UnitProgress
from texts.catalog import t

MAX_BARS = 40
COLOURS = ("#2e7d32", "#90caf9", "#ef9a9a")  # merged, elected not merged, no election


def progress_chart(unit_name: str, lines: Sequence[UnitProgress], max_bars: int = MAX_BARS) -> bytes:
    """PNG bytes; ``lines`` worst first (as in the digest), at most ``max_bars`` are drawn."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    shown = list(lines)[:max_bars]
    labels, merged, elected, missing = [], [], [], []
    for p in shown:
        n = p.villages or 1
        labels.append(f"{p.name or p.code} ({p.villages})")
        merged.append(100.0 * p.merged / n)
        elected.append(100.0 * (p.elected - p.merged) / n)
        missing.append(100.0 * (p.villages - p.elected) / n)
    height = max(2.5, 0.32 * len(shown) + 1.6)
    fig = Figure(figsize=(8.0, height), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ys = list(range(len(shown)))[::-1]  # first line (the worst) at the top
    ax.barh(ys, merged, color=COLOURS[0], label=t("digest.chart.merged"))
    ax.barh(ys, elected, left=merged, color=COLOURS[1], label=t("digest.chart.elected"))
    left = [a + b for a, b in zip(merged, elected, strict=True)]
    ax.barh(ys, missing, left=left, color=COLOURS[2], label=t("digest.chart.missing"))
    ax.set_yticks(ys, labels, fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.6, len(shown) - 0.4)
    ax.set_xlabel(t("digest.chart.axis"))
    ax.set_title(t("digest.chart.title", unit=unit_name), fontsize=10)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.04 if len(shown) < 4 else 1.01), ncol=3, fontsize=8,
              frameon=False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
