"""Server-rendered SVG charts that read without colour and when printed.

Series differ by dash pattern and marker shape as well as by shade, and are labelled
directly at their last point (no legend to match colours against); bars carry their value
as text. Every chart has ``role="img"``, a ``<title>`` and a ``<desc>`` that says in words
what it shows, for screen readers. Output is an escaped ``Markup`` string.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
PLOT_LEFT = 48
PLOT_RIGHT = 120  # room for the direct labels
PLOT_TOP = 16
PLOT_BOTTOM = 36

# (stroke shade, dash pattern, marker) per series: distinguishable in grey and in print.
_STYLES = (
    ("#1f3b73", "", "circle"),
    ("#555555", "6 4", "square"),
    ("#8a3b12", "2 3", "triangle"),
)


# Characters XML 1.0 does not allow (control characters, lone surrogates, U+FFFE/F).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _t(text: str) -> Markup:
    """Text for an SVG element or attribute: escaped, without characters XML forbids."""
    return escape(_NOT_XML.sub("", text))


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float]


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str = ""  # shown after the bar; the value when empty
    low: float | None = None  # an interval drawn as a whisker, when given
    high: float | None = None


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}".rstrip("0")


def _marker(kind: str, x: float, y: float, colour: str) -> str:
    if kind == "square":
        return (f'<rect x="{x - 3:.1f}" y="{y - 3:.1f}" width="6" height="6" '
                f'fill="white" stroke="{colour}"/>')
    if kind == "triangle":
        return (f'<path d="M{x:.1f} {y - 4:.1f} L{x + 4:.1f} {y + 3:.1f} '
                f'L{x - 4:.1f} {y + 3:.1f} Z" fill="{colour}"/>')
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>'


def line_chart(
    chart_id: str,
    title: str,
    desc: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    height: int = 240,
) -> Markup:
    """Lines over ``x_labels`` (at most three series); x labels thinned to fit."""
    n = len(x_labels)
    top = _nice_max(max((v for s in series for v in s.values), default=0))
    plot_w = WIDTH - PLOT_LEFT - PLOT_RIGHT
    plot_h = height - PLOT_TOP - PLOT_BOTTOM

    def x_at(i: int) -> float:
        return PLOT_LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y_at(v: float) -> float:
        return PLOT_TOP + plot_h * (1 - v / top)

    parts = [_open(chart_id, title, desc, height)]
    for k in range(5):  # grid lines with their values
        v = top * k / 4
        y = y_at(v)
        parts.append(f'<line x1="{PLOT_LEFT}" x2="{PLOT_LEFT + plot_w}" y1="{y:.1f}" '
                     f'y2="{y:.1f}" stroke="#ccc" stroke-width="1"/>')
        parts.append(f'<text x="{PLOT_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" '
                     f'font-size="11">{_t(_number(v))}</text>')
    every = max(1, -(-n // 8))
    for i, label in enumerate(x_labels):
        if i % every == 0 or i == n - 1:
            parts.append(f'<text x="{x_at(i):.1f}" y="{height - 14}" text-anchor="middle" '
                         f'font-size="11">{_t(label)}</text>')
    for (colour, dash, marker), s in zip(_STYLES, series, strict=False):
        points = [(x_at(i), y_at(v)) for i, v in enumerate(s.values)]
        if not points:
            continue
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<g><title>{_t(s.label)}</title>'
                     f'<polyline points="{path}" fill="none" stroke="{colour}" '
                     f'stroke-width="2"{dash_attr}/>')
        parts.extend(_marker(marker, x, y, colour) for x, y in points)
        last_x, last_y = points[-1]
        parts.append(f'<text x="{last_x + 8:.1f}" y="{last_y + 4:.1f}" font-size="12">'
                     f'{_t(s.label)} ({_t(_number(s.values[-1]))})</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    bars: Sequence[Bar],
    max_value: float | None = None,
    bar_height: int = 22,
) -> Markup:
    """Horizontal bars, label on the left, value (or ``text``) on the right; an interval,
    when given, is a whisker over the bar. Hatched fill so bars print on any printer."""
    label_w = 200
    value_w = 110
    plot_w = WIDTH - label_w - value_w
    top = max_value if max_value is not None else _nice_max(max((b.value for b in bars),
                                                                default=0))
    top = top or 1.0
    height = PLOT_TOP + len(bars) * (bar_height + 8) + 8

    def x_at(v: float) -> float:
        return label_w + plot_w * max(0.0, min(v, top)) / top

    parts = [
        _open(chart_id, title, desc, height),
        f'<defs><pattern id="{_t(chart_id)}-hatch" width="6" height="6" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="6" height="6" fill="#dfe6f3"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#1f3b73" stroke-width="2"/>'
        "</pattern></defs>",
    ]
    for i, bar in enumerate(bars):
        y = PLOT_TOP + i * (bar_height + 8)
        width = x_at(bar.value) - label_w
        text = bar.text or _number(bar.value)
        parts.append(f"<g><title>{_t(bar.label)}: {_t(text)}</title>")
        parts.append(f'<text x="{label_w - 8}" y="{y + bar_height * 0.7:.1f}" '
                     f'text-anchor="end" font-size="12">{_t(bar.label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{width:.1f}" height="{bar_height}" '
                     f'fill="url(#{_t(chart_id)}-hatch)" stroke="#1f3b73"/>')
        if bar.low is not None and bar.high is not None:
            mid = y + bar_height / 2
            x1, x2 = x_at(bar.low), x_at(bar.high)
            parts.append(
                f'<path d="M{x1:.1f} {mid - 6:.1f} V{mid + 6:.1f} M{x1:.1f} {mid:.1f} '
                f'H{x2:.1f} M{x2:.1f} {mid - 6:.1f} V{mid + 6:.1f}" stroke="black" '
                'stroke-width="1.5" fill="none"/>'
            )
        parts.append(f'<text x="{label_w + plot_w + 8}" y="{y + bar_height * 0.7:.1f}" '
                     f'font-size="12">{_t(text)}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _open(chart_id: str, title: str, desc: str, height: int) -> str:
    cid = _t(chart_id)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'aria-labelledby="{cid}-title {cid}-desc" font-family="sans-serif">'
        f'<title id="{cid}-title">{_t(title)}</title>'
        f'<desc id="{cid}-desc">{_t(desc)}</desc>'
    )
