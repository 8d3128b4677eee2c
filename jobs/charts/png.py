"""A chart as a PNG image, drawn with Pillow (at twice the size, then scaled down so that lines
and text come out smooth)."""

from __future__ import annotations

import io
from typing import Any

from gpuscout.jobs.charts.data import BAND_COLOUR, MARK_COLOUR, ChartData, money_label, present

_SCALE = 2
_MARGIN = {"left": 64, "right": 18, "top": 44, "bottom": 34}
_GRID = (228, 228, 228)
_TEXT = (60, 60, 60)


def _font(size: int) -> Any:
    from PIL import ImageFont

    return ImageFont.load_default(size=size * _SCALE)


def render_png(chart: ChartData, *, width: int = 800, height: int = 400) -> bytes:
    """The chart as PNG bytes of ``width`` x ``height`` pixels."""
    from PIL import Image, ImageDraw

    s = _SCALE
    img = Image.new("RGB", (width * s, height * s), "white")
    draw = ImageDraw.Draw(img)
    left, top = _MARGIN["left"] * s, _MARGIN["top"] * s
    right, bottom = (width - _MARGIN["right"]) * s, (height - _MARGIN["bottom"]) * s
    low, high = chart.y_range()
    n = max(len(chart.x), 1)

    def x_at(i: float) -> float:
        return left + (right - left) * (i / (n - 1) if n > 1 else 0.5)

    def y_at(v: float) -> float:
        return bottom - (bottom - top) * (v - low) / (high - low)

    small, title = _font(11), _font(13)
    if chart.band:
        draw.rectangle((left, y_at(chart.band[1]), right, y_at(chart.band[0])), fill=BAND_COLOUR)
        draw.text((right - 4 * s, y_at(chart.band[1]) + 2 * s), "your band", fill=(70, 130, 70),
                  font=small, anchor="ra")
    for tick in chart.y_ticks():
        y = y_at(tick)
        draw.line((left, y, right, y), fill=_GRID, width=s)
        draw.text((left - 6 * s, y), money_label(tick, chart.currency), fill=_TEXT, font=small,
                  anchor="rm")
    for i, label in chart.x_labels(most=max(2, width // 100)):
        draw.line((x_at(i), bottom, x_at(i), bottom + 4 * s), fill=_TEXT, width=s)
        draw.text((x_at(i), bottom + 6 * s), label, fill=_TEXT, font=small, anchor="ma")
    draw.line((left, bottom, right, bottom), fill=_TEXT, width=s)
    draw.line((left, top, left, bottom), fill=_TEXT, width=s)
    if chart.mark:
        value, label = chart.mark
        _dashed(draw, (left, y_at(value)), (right, y_at(value)), MARK_COLOUR, 2 * s, 8 * s)
        draw.text((left + 6 * s, y_at(value) - 3 * s), label, fill=MARK_COLOUR, font=small,
                  anchor="ld")
    for series in present(chart.series):
        width_px = 3 * s if series.name == "reference" else 2 * s
        for run in _runs(series.values, series.step):
            points = [(x_at(i), y_at(v)) for i, v in run]
            if len(points) > 1:
                draw.line(points, fill=series.colour, width=width_px, joint="curve")
            for x, y in points if len(chart.x) <= 30 else points[-1:]:
                r = 2.5 * s
                draw.ellipse((x - r, y - r, x + r, y + r), fill=series.colour)
    draw.text((left, 8 * s), chart.title, fill=(20, 20, 20), font=title)
    x = left
    for series in present(chart.series):
        draw.rectangle((x, 28 * s, x + 10 * s, 36 * s), fill=series.colour)
        draw.text((x + 14 * s, 32 * s), series.name, fill=_TEXT, font=small, anchor="lm")
        x += int(draw.textlength(series.name, font=small)) + 30 * s
    out = io.BytesIO()
    img.resize((width, height), Image.Resampling.LANCZOS).save(out, format="PNG", optimize=True)
    return out.getvalue()


def _runs(values: tuple[float | None, ...], step: bool) -> list[list[tuple[float, float]]]:
    """Unbroken stretches of (x, value); a step series holds each value to the next x."""
    runs: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    for i, v in enumerate(values):
        if v is None:
            if current:
                runs.append(current)
            current = []
            continue
        if step and current:
            current.append((i, current[-1][1]))
        current.append((i, v))
    if current:
        runs.append(current)
    return runs


def _dashed(draw: Any, start: tuple[float, float], end: tuple[float, float],
            colour: tuple[int, int, int], width: int, dash: int) -> None:
    (x0, y0), (x1, _y1) = start, end
    x = x0
    while x < x1:
        draw.line((x, y0, min(x + dash, x1), y0), fill=colour, width=width)
        x += 2 * dash
