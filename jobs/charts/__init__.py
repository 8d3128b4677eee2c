"""Charts of the market and of one listing: one data shape (``ChartData``) drawn in the terminal
(plotext), as a PNG (Pillow) and as SVG in an HTML page; the drawing libraries are imported only
when a chart is drawn."""

from gpuscout.jobs.charts.data import ChartData, Series

__all__ = ["ChartData", "Series"]
