"""Charts as inline SVG, drawn on the server: no JavaScript, no outside assets, readable by
screen readers (role="img", a title and a description) and backed by a table on the page."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, BAR_HEIGHT, GAP, LABEL_WIDTH = 640, 28, 10, 110


def bar_chart(title: str, items: Sequence[tuple[str, int]]) -> Markup:
    """Horizontal bars, one per (label, value), scaled to the largest value."""
    top = max([v for _, v in items] + [1])
    height = len(items) * (BAR_HEIGHT + GAP) + GAP
    span = WIDTH - LABEL_WIDTH - 70
    desc = ", ".join(f"{label}: {value}" for label, value in items)
    parts = [
        _open_svg(_slug(title), height),
        f'<title id="c-{_slug(title)}-t">{escape(title)}</title>',
        f'<desc id="c-{_slug(title)}-d">{escape(desc)}</desc>',
    ]
    for i, (label, value) in enumerate(items):
        y = GAP + i * (BAR_HEIGHT + GAP)
        w = round(span * value / top) if value else 0
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 19}" text-anchor="end" '
            f'font-size="14" fill="#1d2330">{escape(label)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{max(w, 1)}" height="{BAR_HEIGHT}" '
            f'fill="#1f5fd6" rx="3"/>'
            f'<text x="{LABEL_WIDTH + max(w, 1) + 6}" y="{y + 19}" font-size="14" '
            f'fill="#1d2330">{value}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above


def column_chart(title: str, items: Sequence[tuple[str, int]]) -> Markup:
    """Vertical columns over time, one per (day, count); labels on the first and last."""
    if not items:
        items = [("—", 0)]
    height, bottom, left = 220, 30, 40
    top = max([v for _, v in items] + [1])
    step = (WIDTH - left - 10) / len(items)
    desc = ", ".join(f"{label}: {value}" for label, value in items)
    slug = _slug(title)
    parts = [
        _open_svg(slug, height),
        f'<title id="c-{slug}-t">{escape(title)}</title>',
        f'<desc id="c-{slug}-d">{escape(desc)}</desc>',
        (
            f'<line x1="{left}" y1="{height - bottom}" x2="{WIDTH - 5}" '
            f'y2="{height - bottom}" stroke="#8a93a3"/>'
        ),
        f'<text x="{left - 6}" y="20" text-anchor="end" font-size="12" fill="#5a6270">{top}</text>',
    ]
    span = height - bottom - 20
    for i, (label, value) in enumerate(items):
        h = round(span * value / top)
        width = min(step * 0.7, 48.0)  # one day of claims should not fill the whole chart
        x = left + i * step + (step - width) / 2
        parts.append(
            f'<rect x="{x:.1f}" y="{height - bottom - h}" width="{width:.1f}" '
            f'height="{h}" fill="#1f5fd6"/>'
        )
        if i in (0, len(items) - 1):
            parts.append(
                f'<text x="{x + width / 2:.1f}" y="{height - 10}" text-anchor="middle" '
                f'font-size="12" fill="#5a6270">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above


def _open_svg(slug: str, height: int) -> str:
    return (
        f'<svg role="img" aria-labelledby="c-{slug}-t c-{slug}-d" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" class="chart" '
        'xmlns="http://www.w3.org/2000/svg">'
    )


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower())[:40]
