"""A chart in the terminal, drawn by plotext in braille dots (colour only on a terminal)."""

from __future__ import annotations

import re

from gpuscout.jobs.charts.data import ChartData, money_label, present

_ANSI = re.compile(r"\x1b\[[0-9;]*m")

#: plotext's names for the series colours
_COLOURS = {"reference": "white", "sold median": "blue", "sold p25": "cyan",
            "asking median": "orange", "this listing": "red"}


def render_terminal(chart: ChartData, *, width: int = 100, height: int = 24,
                    colour: bool = True) -> str:
    """The chart as text ``width`` x ``height`` characters."""
    import plotext as plt

    plt.clear_figure()
    plt.plotsize(width, height)
    plt.title(chart.title)
    if not colour:
        plt.theme("clear")
    xs = list(range(len(chart.x)))
    if chart.band:
        for edge in chart.band:
            plt.hline(edge, "green" if colour else None)
    if chart.mark:
        plt.hline(chart.mark[0], "red" if colour else None)
    for series in present(chart.series):
        points = [(x, v) for x, v in zip(xs, series.values, strict=True) if v is not None]
        plt.plot([p[0] for p in points], [p[1] for p in points], label=series.name,
                 marker="braille", color=_COLOURS.get(series.name, "gray") if colour else None)
    labels = chart.x_labels(most=max(2, width // 12))
    plt.xticks([i for i, _ in labels], [label for _, label in labels])
    ticks = chart.y_ticks()
    plt.yticks(ticks, [money_label(t, chart.currency) for t in ticks])
    low, high = chart.y_range()
    plt.ylim(low, high)
    if len(xs) > 1:
        plt.xlim(0, len(xs) - 1)
    text: str = plt.build()
    plt.clear_figure()
    lines = [text if colour else _ANSI.sub("", text).rstrip()]
    if chart.band:
        lines.append(f"band (your budget): {money_label(chart.band[0], chart.currency)} - "
                     f"{money_label(chart.band[1], chart.currency)}")
    if chart.mark:
        lines.append(f"marked: {chart.mark[1]}")
    lines += list(chart.notes)
    return "\n".join(lines) + "\n"
