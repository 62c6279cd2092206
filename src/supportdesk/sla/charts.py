"""Server-rendered SVG charts for the reports (no script, no inline style: the strict CSP
allows them as they are; colours are SVG presentation attributes)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from supportdesk.sla.reports import OUTCOME_LABELS, OUTCOMES, Row

COLOURS = {"met": "#2e7d32", "breached": "#c62828", "pending": "#f9a825", "no_sla": "#9e9e9e"}
LABEL_WIDTH = 170
BAR_WIDTH = 420
ROW_HEIGHT = 24
BAR_HEIGHT = 16


def compliance_bars(rows: Sequence[Row], *, title: str) -> SafeString:
    """One stacked bar per row: met, breached, pending, no SLA (each as a share of the row)."""
    rows = list(rows)
    legend_height = 28
    height = legend_height + ROW_HEIGHT * max(len(rows), 1) + 8
    width = LABEL_WIDTH + BAR_WIDTH + 90
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    x = 0
    for outcome in OUTCOMES:
        parts.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{COLOURS[outcome]}"/>')
        parts.append(f'<text x="{x + 16}" y="14" font-size="12" fill="currentColor">{OUTCOME_LABELS[outcome]}</text>')
        x += 110
    if not rows:
        parts.append(f'<text x="0" y="{legend_height + 16}" font-size="13" fill="currentColor">no tickets</text>')
    for index, row in enumerate(rows):
        y = legend_height + index * ROW_HEIGHT
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 13}" font-size="12" text-anchor="end" '
            f'fill="currentColor">{escape(_short(row.label))}</text>'
        )
        total = row.total or 1
        offset = 0.0
        for outcome in OUTCOMES:
            count = getattr(row, outcome)
            if not count:
                continue
            share = count / total
            bar = BAR_WIDTH * share
            parts.append(
                f'<rect x="{LABEL_WIDTH + offset:.1f}" y="{y}" width="{bar:.1f}" height="{BAR_HEIGHT}" '
                f'fill="{COLOURS[outcome]}"><title>{escape(row.label)}: {count} {OUTCOME_LABELS[outcome]} '
                f"({share:.0%})</title></rect>"
            )
            offset += bar
        met = f"{row.met_share:.0%} met" if row.met_share is not None else "-"
        parts.append(
            f'<text x="{LABEL_WIDTH + BAR_WIDTH + 6}" y="{y + 13}" font-size="12" '
            f'fill="currentColor">{met}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  (every label is escaped above)


def time_bars(rows: Sequence[Row], *, title: str) -> SafeString:
    """Median and 90th percentile of first-response time per row, on one scale."""
    rows = [row for row in rows if row.times]
    longest = max((row.p90 or timedelta(0) for row in rows), default=timedelta(0)).total_seconds() or 1
    height = 28 + ROW_HEIGHT * max(len(rows), 1) + 8
    width = LABEL_WIDTH + BAR_WIDTH + 140
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        '<rect x="0" y="4" width="12" height="12" fill="#1565c0"/>'
        '<text x="16" y="14" font-size="12" fill="currentColor">median</text>'
        '<rect x="110" y="4" width="12" height="12" fill="#90caf9"/>'
        '<text x="126" y="14" font-size="12" fill="currentColor">90th percentile</text>',
    ]
    if not rows:
        parts.append('<text x="0" y="44" font-size="13" fill="currentColor">no answered tickets</text>')
    for index, row in enumerate(rows):
        y = 28 + index * ROW_HEIGHT
        median = (row.median or timedelta(0)).total_seconds()
        p90 = (row.p90 or timedelta(0)).total_seconds()
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 13}" font-size="12" text-anchor="end" '
            f'fill="currentColor">{escape(_short(row.label))}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{BAR_WIDTH * p90 / longest:.1f}" height="{BAR_HEIGHT}" fill="#90caf9"/>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 4}" width="{BAR_WIDTH * median / longest:.1f}" height="{BAR_HEIGHT - 8}" fill="#1565c0"/>'
            f'<text x="{LABEL_WIDTH + BAR_WIDTH + 6}" y="{y + 13}" font-size="12" fill="currentColor">'
            f"{_duration(median)} / {_duration(p90)}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308


def _short(text: str, limit: int = 26) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    hours, mins = divmod(minutes, 60)
    if hours >= 48:
        return f"{hours // 24} d {hours % 24} h"
    return f"{hours} h {mins:02d}" if hours else f"{mins} min"
