"""The analytics page's charts, drawn from its tables (console/analytics.py) as PNG data
URIs the page shows inline: no files, no JavaScript."""

from __future__ import annotations

import base64
import io

# The object-oriented Figure, not pyplot: no GUI backend, and safe in concurrent request threads.
from matplotlib.figure import Figure

from chatbot.console.analytics import Table

BOT, PERSON, ACCENT, MUTED = "#1c7ed6", "#2f9e44", "#f08c00", "#adb5bd"


def _png(fig: Figure, top: float = 1.0) -> str:
    fig.tight_layout(rect=(0, 0, 1, top))  # top < 1 leaves room for a legend above the axes
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _axes(width: float = 6.4, height: float = 2.6):
    fig = Figure(figsize=(width, height))
    ax = fig.subplots()
    ax.tick_params(labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def _day_ticks(ax, days: list[str]) -> None:
    step = max(1, len(days) // 10)
    ax.set_xticks(range(0, len(days), step), [d[5:] for d in days[::step]], rotation=45, ha="right")


def daily_chart(table: Table) -> str:
    """Stacked bars: conversations per day, without and with a person; the share without as a line."""
    days = [r[0] for r in table.rows]
    fig, ax = _axes()
    x = range(len(days))
    ax.bar(x, [r[3] for r in table.rows], color=BOT, label="without a person")
    ax.bar(x, [r[2] for r in table.rows], bottom=[r[3] for r in table.rows], color=PERSON, label="with a person")
    ax.set_ylabel("conversations", fontsize=8)
    share = ax.twinx()
    share.plot(x, [r[4] if r[4] is not None else float("nan") for r in table.rows], "o-", color=ACCENT,
               markersize=3, label="share without a person")
    share.set_ylim(0, 1.05)
    share.tick_params(labelsize=7)
    share.set_ylabel("share without a person", fontsize=8)
    _day_ticks(ax, days)
    fig.legend(fontsize=7, loc="upper center", ncol=3, frameon=False)  # above the bars, never over them
    return _png(fig, top=0.9)


def handoffs_chart(table: Table) -> str | None:
    """Horizontal bars: hand-off rate (share of conversations) per reason."""
    if not table.rows:
        return None
    rows = list(reversed(table.rows))
    fig, ax = _axes(height=0.5 + 0.3 * len(rows))
    ax.barh([r[0] for r in rows], [(r[3] or 0) * 100 for r in rows], color=ACCENT)
    ax.set_xlabel("% of conversations", fontsize=8)
    return _png(fig)


def first_reply_chart(table: Table) -> str | None:
    """Median minutes from a hand-off request to a person's first reply, per day."""
    if not any(r[3] is not None for r in table.rows):
        return None
    days = [r[0] for r in table.rows]
    fig, ax = _axes()
    ax.bar(range(len(days)), [(r[3] or 0) / 60 for r in table.rows], color=PERSON)
    ax.set_ylabel("median minutes", fontsize=8)
    _day_ticks(ax, days)
    return _png(fig)


def ratings_chart(table: Table) -> str | None:
    """Bars per score, stacked by who resolved the conversation."""
    if not table.summary["ratings"]:
        return None
    fig, ax = _axes(height=2.2)
    scores = [r[0] for r in table.rows]
    ax.bar(scores, [r[1] for r in table.rows], color=BOT, label="bot")
    ax.bar(scores, [r[2] for r in table.rows], bottom=[r[1] for r in table.rows], color=PERSON, label="person")
    ax.set_xticks(scores)
    ax.set_xlabel("score", fontsize=8)
    ax.legend(fontsize=7, frameon=False)
    return _png(fig)


def offers_chart(table: Table) -> str | None:
    """Grouped bars per offer kind: made, redeemed, customers who ordered again."""
    if not table.rows:
        return None
    fig, ax = _axes()
    kinds = [r[0] for r in table.rows]
    width = 0.27
    for n, (column, label, colour) in enumerate(((1, "made", MUTED), (2, "redeemed", ACCENT),
                                                 (5, "customers who ordered again", PERSON))):
        ax.bar([i + (n - 1) * width for i in range(len(kinds))], [r[column] for r in table.rows], width,
               label=label, color=colour)
    ax.set_xticks(range(len(kinds)), kinds)
    ax.legend(fontsize=7, frameon=False)
    return _png(fig)


CHARTS = {"daily": daily_chart, "handoffs": handoffs_chart, "first_reply": first_reply_chart,
          "ratings": ratings_chart, "offers": offers_chart}


def charts(tables: dict[str, Table]) -> dict[str, str | None]:
    """A chart for each table that has one (None where there is nothing to draw)."""
    return {name: draw(tables[name]) for name, draw in CHARTS.items() if name in tables}
