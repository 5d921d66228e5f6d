"""Charts drawn on the server as SVG: no chart library, no CDN, no script. Colours and sizes are
SVG attributes (not style), so the strict Content-Security-Policy lets them through; every text
is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

PALETTE = ("#c41e3a", "#1f6feb", "#2da44e", "#bf8700", "#8250df", "#0a7c86", "#cf222e", "#57606a")
WIDTH = 640
BAR_AREA_HEIGHT = 200
ROW_HEIGHT = 22
FONT = 12


def _text(x: float, y: float, content: str, *, anchor: str = "start", size: int = FONT) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="#24292f">{escape(content)}</text>'
    )


def _svg(height: float, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" '
        f'width="100%" role="img" aria-label="{escape(title)}" class="chart">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def stacked_bars(
    title: str, categories: Sequence[str], series: Sequence[tuple[str, Sequence[float]]]
) -> str:
    """Vertical bars per category (a day, a week), stacked by series (topics), with a legend."""
    if not categories:
        return _svg(40, [_text(10, 24, "这段时间没有数据")], title)
    left, top = 40, 10
    plot_width = WIDTH - left - 10
    totals = [sum(values[i] for _, values in series) for i in range(len(categories))]
    peak = max(totals) or 1
    slot = plot_width / len(categories)
    bar = min(max(2.0, slot * 0.7), 40.0)
    body = [
        f'<line x1="{left}" y1="{top + BAR_AREA_HEIGHT}" x2="{WIDTH - 10}" '
        f'y2="{top + BAR_AREA_HEIGHT}" stroke="#8c959f"/>',
        _text(left - 4, top + 10, f"{peak:g}", anchor="end", size=10),
        _text(left - 4, top + BAR_AREA_HEIGHT, "0", anchor="end", size=10),
    ]
    for i, category in enumerate(categories):
        x = left + i * slot + (slot - bar) / 2
        y = float(top + BAR_AREA_HEIGHT)
        for index, (name, values) in enumerate(series):
            height = BAR_AREA_HEIGHT * values[i] / peak
            if height <= 0:
                continue
            y -= height
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{height:.1f}" '
                f'fill="{PALETTE[index % len(PALETTE)]}"><title>{escape(category)} '
                f"{escape(name)}：{values[i]:g}</title></rect>"
            )
    # Label a few categories only, so they never overlap.
    step = max(1, len(categories) // 8)
    for i in range(0, len(categories), step):
        x = left + i * slot + slot / 2
        body.append(
            _text(x, top + BAR_AREA_HEIGHT + 14, categories[i][-5:], anchor="middle", size=10)
        )
    legend_top = top + BAR_AREA_HEIGHT + 30
    for index, (name, _values) in enumerate(series):
        column, row = index % 4, index // 4
        x, y = left + column * 150, legend_top + row * 18
        body.append(
            f'<rect x="{x}" y="{y}" width="10" height="10" fill="{PALETTE[index % len(PALETTE)]}"/>'
        )
        body.append(_text(x + 14, y + 9, name, size=11))
    height = legend_top + ((len(series) + 3) // 4) * 18 + 6
    return _svg(height, body, title)


def horizontal_bars(title: str, bars: Sequence[tuple[str, float]]) -> str:
    """One bar per label (a district, a type, a poster place), the value at its end."""
    if not bars:
        return _svg(40, [_text(10, 24, "这段时间没有数据")], title)
    label_width, right = 170, 50
    peak = max(value for _, value in bars) or 1
    body: list[str] = []
    for i, (label, value) in enumerate(bars):
        y = 6 + i * ROW_HEIGHT
        width = (WIDTH - label_width - right) * value / peak
        body.append(_text(label_width - 6, y + 14, label[:14], anchor="end"))
        body.append(
            f'<rect x="{label_width}" y="{y + 3}" width="{max(width, 1):.1f}" height="14" '
            f'fill="{PALETTE[0]}"/>'
        )
        body.append(_text(label_width + width + 4, y + 14, f"{value:g}"))
    return _svg(12 + len(bars) * ROW_HEIGHT, body, title)
