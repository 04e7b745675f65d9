"""Plotly figures as plain JSON-ready dicts, built in the views and drawn in the browser by
plotly.js (static/js/charts.js reads them from a ``json_script`` block). One look for every chart."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

# A figure as plotly.js reads it: ``{"data": [Trace, ...], "layout": {...}}``.
Figure = dict[str, object]


class Trace(TypedDict, total=False):
    """One trace of a figure's ``data``: the plotly.js keys the site's charts set."""

    type: str
    mode: str
    name: str
    x: Sequence[object]  # numbers, ISO dates or labels
    y: Sequence[object]
    line: dict[str, object]
    orientation: str
    marker: dict[str, object]
    text: list[str]
    hovertemplate: str


# Colour-blind-safe (Okabe-Ito), dark enough on white for lines and bars.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#8C6D1F"]


def figure(
    traces: list[Trace],
    *,
    x_title: str = "",
    y_title: str = "",
    y_format: str = "",
    x_type: str = "",
    height: int = 320,
    extra_layout: dict[str, object] | None = None,
) -> Figure:
    """A figure with the site's layout: compact margins, a legend under the plot, hover on x."""
    xaxis: dict[str, object] = {"title": {"text": x_title}, "gridcolor": "#e6e9ed", "automargin": True}
    yaxis: dict[str, object] = {
        "title": {"text": y_title},
        "gridcolor": "#e6e9ed",
        "automargin": True,
        "zerolinecolor": "#b0b7bf",
    }
    if x_type:
        xaxis["type"] = x_type
    if y_format:
        yaxis["tickformat"] = y_format
    layout: dict[str, object] = {
        "height": height,
        "margin": {"l": 60, "r": 16, "t": 16, "b": 90 if x_title else 48},
        "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 13, "color": "#1b1f24"},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "hovermode": "x unified" if x_type == "date" else "closest",
        "legend": {"orientation": "h", "y": -0.35 if x_title else -0.2},
        "colorway": PALETTE,
        "xaxis": xaxis,
        "yaxis": yaxis,
    }
    if extra_layout:
        for key, value in extra_layout.items():
            current = layout.get(key)
            if isinstance(value, dict) and isinstance(current, dict):
                layout[key] = {**current, **value}
            else:
                layout[key] = value
    return {"data": traces, "layout": layout}


def line(
    x: Sequence[object],
    y: Sequence[float | None],
    *,
    name: str,
    step: bool = False,
    dash: str = "",
    markers: bool = False,
) -> Trace:
    style: dict[str, object] = {"shape": "hv" if step else "linear", "width": 2}
    if dash:
        style["dash"] = dash
    return {
        "type": "scatter",
        "mode": "lines+markers" if markers else "lines",
        "name": name,
        "x": list(x),
        "y": list(y),
        "line": style,
    }


def bars(
    x: Sequence[object],
    y: Sequence[object],
    *,
    name: str = "",
    horizontal: bool = False,
    colors: str | Sequence[str] | None = None,
) -> Trace:
    trace: Trace = {"type": "bar", "name": name, "x": list(x), "y": list(y)}
    if horizontal:
        trace["orientation"] = "h"
    if colors is not None:
        trace["marker"] = {"color": colors}
    return trace
