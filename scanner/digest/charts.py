"""Inline SVG charts for the HTML digest: sparklines, the keyword maps and weekly volume by topic.

Every chart is a ``Markup`` string built here; every piece of text that goes into it passes through
``escape`` first, so scraped keywords cannot inject markup. Output depends only on the input
(no randomness, fixed number formatting), so the same digest renders byte-identical SVG.
"""

from __future__ import annotations

import logging
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from markupsafe import Markup, escape

from scanner.digest.model import VolumeSeries

logger = logging.getLogger(__name__)

# Okabe-Ito: distinguishable for colour-blind readers and in greyscale print.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
OTHER_COLOUR = "#9aa0a6"
FONT = "font-family=\"inherit\""


def _n(value: float) -> str:
    """A coordinate with at most one decimal and no '-0'."""
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def text_width(text: str, size: float) -> float:
    """Rough rendered width: Thai vowel and tone marks above or below a consonant take no space."""
    width = 0.0
    for ch in text:
        if unicodedata.combining(ch) or unicodedata.category(ch) == "Mn":
            continue
        width += 0.62 if ch.isascii() and ch.isupper() else 0.55
    return width * size


def render_sparkline(values: Sequence[int], weeks: Sequence[str], width: int = 132, height: int = 30,
                     colour: str = "#0072B2") -> Markup:
    """A small line of weekly item counts; the last week is marked with a dot."""
    label = ", ".join(f"{w}: {v}" for w, v in zip(weeks, values, strict=False))
    if not values:
        return Markup("")
    top = max(max(values), 1)
    step = (width - 6) / max(len(values) - 1, 1)
    pts = [(3 + i * step, height - 3 - (v / top) * (height - 6)) for i, v in enumerate(values)]
    line = " ".join(f"{_n(x)},{_n(y)}" for x, y in pts)
    area = f"3,{height - 3} {line} {_n(pts[-1][0])},{height - 3}"
    lx, ly = pts[-1]
    return Markup(
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="Items per week: {escape(label)}"><title>Items per week: {escape(label)}</title>'
        f'<polygon points="{area}" fill="{colour}" fill-opacity="0.12"/>'
        f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="1.6" stroke-linejoin="round"/>'
        f'<circle cx="{_n(lx)}" cy="{_n(ly)}" r="2.4" fill="{colour}"/></svg>'
    )


class MapPoint(NamedTuple):
    """One dot on a keyword map: x is a count (log scale), y a growth rate."""

    label: str
    x: int
    y: float
    quadrant: str  # weak | strong | latent | established


def _boxes_overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return not (a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1])


@dataclass(frozen=True)
class _Plot:
    """A map's plotting area in SVG units and the data ranges it shows (x as ``log10``)."""

    left: float
    top: float
    pw: float
    ph: float
    x_lo: float
    x_hi: float
    y_lo: float
    y_hi: float

    def sx(self, v: float) -> float:
        return self.left + (math.log10(max(v, 1.0)) - self.x_lo) / (self.x_hi - self.x_lo) * self.pw

    def sy(self, v: float) -> float:
        return self.top + (1 - (v - self.y_lo) / (self.y_hi - self.y_lo)) * self.ph


def render_quadrant_map(points: Sequence[MapPoint], x_name: str, x_label: str, y_label: str, title: str,
                        x_split: float, y_split: float, width: int = 680, height: int = 440) -> Markup:
    """A labelled scatter split into four quadrants (Yoon 2012): x on a log scale, y a growth rate.

    ``x_name`` names the x value in each point's tooltip. Labels are placed greedily right, left,
    above or below their point; a label that fits nowhere is left out (the point keeps its tooltip)
    rather than drawn over another.
    """
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
             f"<title>{escape(title)}</title>"]
    if not points:
        parts.append(f'<text x="{width / 2:g}" y="{height / 2:g}" text-anchor="middle" class="muted">'
                     "No keyword scores for this week yet.</text></svg>")
        return Markup("".join(parts))
    plot = _plot_area(points, x_split, y_split, width, height)
    parts += _quadrants(plot, x_split, y_split)
    parts += _axes(plot, x_label, y_label, title, height)
    parts += _points_and_labels(plot, points, x_name)
    parts.append("</svg>")
    return Markup("".join(parts))


def _plot_area(points: Sequence[MapPoint], x_split: float, y_split: float, width: int, height: int) -> _Plot:
    """The ranges that show every point and both splits, with a little padding."""
    left, right, top, bottom = 56, 16, 30, 46
    xs = [max(float(p.x), 1.0) for p in points]
    ys = [float(p.y) for p in points]
    x_lo, x_hi = math.log10(min([*xs, max(x_split, 1.0)])), math.log10(max([*xs, max(x_split, 1.0)]))
    if x_hi - x_lo < 1e-9:
        x_lo, x_hi = x_lo - 0.5, x_hi + 0.5
    pad = (x_hi - x_lo) * 0.06
    y_lo, y_hi = min([*ys, y_split]), max([*ys, y_split])
    if y_hi - y_lo < 1e-9:
        y_lo, y_hi = y_lo - 0.5, y_hi + 0.5
    ypad = (y_hi - y_lo) * 0.08
    return _Plot(left=left, top=top, pw=width - left - right, ph=height - top - bottom, x_lo=x_lo - pad,
                 x_hi=x_hi + pad, y_lo=y_lo - ypad, y_hi=y_hi + ypad)


def _quadrants(plot: _Plot, x_split: float, y_split: float) -> list[str]:
    """Quadrant backgrounds and names, the two split lines and the frame."""
    left, top, pw, ph = plot.left, plot.top, plot.pw, plot.ph
    cx, cy = plot.sx(max(x_split, 1.0)), plot.sy(y_split)
    quads = [
        ("weak", left, top, cx - left, cy - top, "Weak signals", "start", left + 6, top + 14),
        ("strong", cx, top, left + pw - cx, cy - top, "Strong signals", "end", left + pw - 6, top + 14),
        ("latent", left, cy, cx - left, top + ph - cy, "Latent", "start", left + 6, top + ph - 6),
        ("established", cx, cy, left + pw - cx, top + ph - cy, "Established", "end", left + pw - 6, top + ph - 6),
    ]
    parts = []
    for cls, x, y, w, h, name, anchor, tx, ty in quads:
        parts.append(f'<rect class="q-{cls}" x="{_n(x)}" y="{_n(y)}" width="{_n(max(w, 0))}" '
                     f'height="{_n(max(h, 0))}"/>')
        parts.append(f'<text class="qname" x="{_n(tx)}" y="{_n(ty)}" text-anchor="{anchor}">{name}</text>')
    parts.append(f'<line class="split" x1="{_n(cx)}" y1="{top}" x2="{_n(cx)}" y2="{top + ph}"/>')
    parts.append(f'<line class="split" x1="{left}" y1="{_n(cy)}" x2="{left + pw}" y2="{_n(cy)}"/>')
    parts.append(f'<rect class="frame" x="{left}" y="{top}" width="{pw}" height="{ph}"/>')
    return parts


def _axes(plot: _Plot, x_label: str, y_label: str, title: str, height: int) -> list[str]:
    """x ticks at powers of ten and their 2x/5x, y ticks as percentages, axis names and the title."""
    left, top, pw, ph = plot.left, plot.top, plot.pw, plot.ph
    parts = []
    mantissas = (1, 2, 3, 4, 5, 6, 7, 8, 9) if plot.x_hi - plot.x_lo < 1.2 else (1, 2, 5)
    for exp in range(math.floor(plot.x_lo), math.ceil(plot.x_hi) + 1):
        for m in mantissas:
            v = m * 10**exp
            if v < 1 or not (plot.x_lo <= math.log10(v) <= plot.x_hi):
                continue
            parts.append(f'<text class="tick" x="{_n(plot.sx(v))}" y="{top + ph + 14}" text-anchor="middle">'
                         f"{v:g}</text>")
    for i in range(5):
        v = plot.y_lo + (plot.y_hi - plot.y_lo) * i / 4
        parts.append(f'<text class="tick" x="{left - 5}" y="{_n(plot.sy(v) + 3)}" text-anchor="end">'
                     f"{v * 100:+.0f}%</text>")
    parts.append(f'<text class="axis" x="{left + pw / 2:g}" y="{height - 8}" text-anchor="middle">'
                 f"{escape(x_label)}</text>")
    parts.append(f'<text class="axis" transform="translate(13 {top + ph / 2:g}) rotate(-90)" text-anchor="middle">'
                 f"{escape(y_label)}</text>")
    parts.append(f'<text class="ctitle" x="{left}" y="18">{escape(title)}</text>')
    return parts


def _points_and_labels(plot: _Plot, points: Sequence[MapPoint], x_name: str) -> list[str]:
    """Every point with its tooltip, then the labels that fit without overlaps (largest x first, so
    frequent words win ties)."""
    placed: list[tuple[float, float, float, float]] = []
    order = sorted(range(len(points)), key=lambda i: (-float(points[i].x), points[i].label))
    parts: list[str] = []
    for i in order:
        p = points[i]
        px, py = plot.sx(float(p.x)), plot.sy(float(p.y))
        tip = f"{p.label}: {x_name} {p.x}, growth {float(p.y) * 100:+.0f}%"
        parts.append(f'<circle class="pt pt-{escape(p.quadrant)}" cx="{_n(px)}" cy="{_n(py)}" r="4">'
                     f"<title>{escape(tip)}</title></circle>")
        placed.append((px - 4, py - 4, px + 4, py + 4))
    for i in order:
        p = points[i]
        px, py = plot.sx(float(p.x)), plot.sy(float(p.y))
        label = p.label if len(p.label) <= 22 else p.label[:21] + "…"
        lw, lh = text_width(label, 11), 13.0
        for bx, by, anchor in ((px + 6, py - lh / 2, "start"), (px - 6 - lw, py - lh / 2, "end"),
                               (px - lw / 2, py - 6 - lh, "middle"), (px - lw / 2, py + 6, "middle")):
            box = (bx, by, bx + lw, by + lh)
            inside = (box[0] >= plot.left and box[2] <= plot.left + plot.pw and box[1] >= plot.top
                      and box[3] <= plot.top + plot.ph)
            if inside and not any(_boxes_overlap(box, b) for b in placed if b != (px - 4, py - 4, px + 4, py + 4)):
                placed.append(box)
                label_x = {"start": bx, "end": bx + lw, "middle": bx + lw / 2}[anchor]
                parts.append(f'<text class="plabel" x="{_n(label_x)}" y="{_n(by + lh - 3)}" text-anchor="{anchor}">'
                             f"{escape(label)}</text>")
                break
    return parts


def render_volume_chart(weeks: Sequence[str], series: Sequence[VolumeSeries], width: int = 680,
                        height: int = 260) -> Markup:
    """Stacked weekly bars, one colour per topic, with a legend below.

    ``series`` in legend order, counts aligned with ``weeks``.
    """
    left, right, top, bottom = 40, 10, 30, 40
    legend_rows = math.ceil(len(series) / 3) if series else 0
    total_h = height + legend_rows * 18
    pw, ph = width - left - right, height - top - bottom
    totals = [sum(int(s["counts"][i]) for s in series) for i in range(len(weeks))]
    peak = max([*totals, 1])
    parts = [f'<svg class="chart" viewBox="0 0 {width} {total_h}" role="img" '
             f'aria-label="Items per week by topic"><title>Items per week by topic</title>',
             f'<text class="ctitle" x="{left}" y="18">Weekly volume by topic</text>']
    # Gridlines at nice steps.
    step = max(1, 10 ** math.floor(math.log10(peak)) if peak >= 10 else 1)
    while peak / step > 5:
        step *= 2
    v = 0
    while v <= peak:
        y = top + ph - v / peak * ph
        parts.append(f'<line class="grid" x1="{left}" y1="{_n(y)}" x2="{left + pw}" y2="{_n(y)}"/>')
        parts.append(f'<text class="tick" x="{left - 5}" y="{_n(y + 3)}" text-anchor="end">{v}</text>')
        v += step
    slot = pw / max(len(weeks), 1)
    bar = slot * 0.72
    for i, week in enumerate(weeks):
        x = left + i * slot + (slot - bar) / 2
        y = top + ph
        for k, s in enumerate(series):
            c = int(s["counts"][i])
            if c <= 0:
                continue
            h = c / peak * ph
            y -= h
            colour = PALETTE[k % len(PALETTE)]
            parts.append(f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(bar)}" height="{_n(h)}" fill="{colour}">'
                         f"<title>{escape(week)} · {escape(s['name'])}: {c}</title></rect>")
        if len(weeks) <= 14 or i % 2 == (len(weeks) - 1) % 2:
            parts.append(f'<text class="tick" x="{_n(x + bar / 2)}" y="{top + ph + 14}" text-anchor="middle">'
                         f"{escape(week[-3:])}</text>")
    parts.append(f'<line class="axisline" x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}"/>')
    for k, s in enumerate(series):
        col, row = k % 3, k // 3
        lx, ly = left + col * (pw / 3), height - 8 + row * 18
        colour = PALETTE[k % len(PALETTE)]
        parts.append(f'<rect x="{_n(lx)}" y="{_n(ly - 9)}" width="10" height="10" fill="{colour}"/>')
        name = s["name"]
        if len(name) > 34:
            name = name[:33] + "…"
        parts.append(f'<text class="legend" x="{_n(lx + 14)}" y="{_n(ly)}">{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
