"""A chart as SVG, and an HTML page holding it with a table: no library, no script, safe to
open or share (every text is escaped)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from gpuscout.jobs.charts.data import BAND_COLOUR, MARK_COLOUR, ChartData, money_label, present

_M = {"left": 64, "right": 18, "top": 44, "bottom": 34}


def _rgb(colour: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*colour)


def render_svg(chart: ChartData, *, width: int = 800, height: int = 400) -> str:
    """The chart as an SVG element; each series is a ``<polyline data-series="...">``."""
    left, top = _M["left"], _M["top"]
    right, bottom = width - _M["right"], height - _M["bottom"]
    low, high = chart.y_range()
    n = max(len(chart.x), 1)

    def x_at(i: float) -> float:
        return round(left + (right - left) * (i / (n - 1) if n > 1 else 0.5), 1)

    def y_at(v: float) -> float:
        return round(bottom - (bottom - top) * (v - low) / (high - low), 1)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11" '
           f'role="img" aria-label="{escape(chart.title)}">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="20" font-size="14">{escape(chart.title)}</text>']
    if chart.band:
        y1, y0 = y_at(chart.band[1]), y_at(chart.band[0])
        out.append(f'<rect data-band="{chart.band[0]:g}-{chart.band[1]:g}" x="{left}" y="{y1}" '
                   f'width="{right - left}" height="{round(y0 - y1, 1)}" '
                   f'fill="{_rgb(BAND_COLOUR)}"/>')
    for tick in chart.y_ticks():
        y = y_at(tick)
        out.append(f'<line x1="{left}" y1="{y}" x2="{right}" y2="{y}" stroke="#e4e4e4"/>'
                   f'<text x="{left - 6}" y="{y + 4}" text-anchor="end">'
                   f'{escape(money_label(tick, chart.currency))}</text>')
    for i, label in chart.x_labels(most=max(2, width // 100)):
        out.append(f'<text x="{x_at(i)}" y="{bottom + 16}" text-anchor="middle">'
                   f'{escape(label)}</text>')
    out.append(f'<polyline points="{left},{top} {left},{bottom} {right},{bottom}" fill="none" '
               'stroke="#3c3c3c"/>')
    if chart.mark:
        y = y_at(chart.mark[0])
        out.append(f'<line data-mark="{chart.mark[0]:g}" x1="{left}" y1="{y}" x2="{right}" '
                   f'y2="{y}" stroke="{_rgb(MARK_COLOUR)}" stroke-dasharray="6 6" '
                   f'stroke-width="2"/><text x="{left + 6}" y="{y - 4}" '
                   f'fill="{_rgb(MARK_COLOUR)}">{escape(chart.mark[1])}</text>')
    x = left
    for series in present(chart.series):
        points = [(x_at(i), y_at(v)) for i, v in enumerate(series.values) if v is not None]
        stroke = _rgb(series.colour)
        joined = " ".join(f"{px},{py}" for px, py in points)
        out.append(f'<polyline data-series="{escape(series.name)}" points="{joined}" fill="none" '
                   f'stroke="{stroke}" stroke-width="{3 if series.name == "reference" else 2}"/>')
        out.append(f'<rect x="{x}" y="28" width="10" height="8" fill="{stroke}"/>'
                   f'<text x="{x + 14}" y="36">{escape(series.name)}</text>')
        x += 20 + 7 * len(series.name)
    out.append("</svg>")
    return "\n".join(out)


def render_html(chart: ChartData, columns: Sequence[str], rows: Sequence[Mapping[str, Any]], *,
                intro: Sequence[str] = ()) -> str:
    """A page: the title, ``intro`` lines, the chart and the table of ``rows``."""
    head = "".join(f"<th>{escape(c.replace('_', ' '))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{escape(_cell(row.get(c)))}</td>" for c in columns)
                   + "</tr>" for row in rows)
    paras = "".join(f"<p>{escape(line)}</p>" for line in intro)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{escape(chart.title)}</title><style>body{{font-family:sans-serif;"
            "max-width:860px;margin:1em auto}table{border-collapse:collapse}td,th{padding:3px "
            "8px;border-bottom:1px solid #ddd;text-align:right}</style></head><body>"
            f"<h1>{escape(chart.title)}</h1>{paras}\n{render_svg(chart)}\n"
            f"<table><tr>{head}</tr>{body}</table></body></html>\n")


def _cell(value: Any) -> str:
    from gpuscout.jobs.cli.output import cell

    return cell(value)
