"""The transcript page's risk chart: each shopper message's churn risk and the running
conversation risk, as an inline SVG (no JavaScript, no image files)."""

from __future__ import annotations

import io

# The object-oriented Figure, not pyplot: no GUI backend, and safe in concurrent request threads.
from matplotlib.figure import Figure


def risk_svg(series: list[tuple[int, float, float]]) -> str | None:
    """An SVG chart of (message number, message risk, conversation risk); None if no scores."""
    if not series:
        return None
    numbers = [n for n, _, _ in series]
    fig = Figure(figsize=(6.4, 2.2), dpi=100)
    ax = fig.subplots()
    ax.plot(numbers, [m for _, m, _ in series], "o-", color="#d9480f", label="message")
    ax.plot(numbers, [c for _, _, c in series], "s--", color="#1c7ed6", label="conversation")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("message #", fontsize=8)
    ax.set_ylabel("churn risk", fontsize=8)
    ax.set_xticks(numbers)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, loc="upper left", frameon=False)
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]  # drop the XML prolog so it can sit inside HTML
