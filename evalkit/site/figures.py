"""Plotly figures as plain JSON-able dicts (drawn in the browser by the locally shipped plotly.js).

Every string that comes from the database is HTML-escaped here, because Plotly renders a few tags
(<br>, <b>, <a>) in names and hover text. Hover text goes through ``text`` with a fixed
``hovertemplate`` so that a '%{...}' inside data is never interpreted.
"""

from __future__ import annotations

import html
import math

# Okabe & Ito (2008), the colour-blind-safe qualitative palette; yellow last (weak contrast on white).
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#000000", "#F0E442"]
SYMBOLS = ["circle", "square", "diamond", "triangle-up", "triangle-down", "cross", "x", "pentagon"]
DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"]
HOVER = "%{text}<extra></extra>"
PUBLISHED = "#444444"


def esc(value) -> str:
    """Escape <, > and & (Plotly shows entities as their characters; quotes need no escaping in its text)."""
    return html.escape(str(value), quote=False)


def _num(value) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def style(index: int) -> dict:
    """Colour, marker symbol and dash for the index-th series; symbols and dashes change once colours repeat."""
    turn = index // len(OKABE_ITO)
    return {
        "color": OKABE_ITO[index % len(OKABE_ITO)],
        "symbol": SYMBOLS[(index + turn) % len(SYMBOLS)],
        "dash": DASHES[turn % len(DASHES)],
    }


def layout(title: str, x: dict, y: dict, height: int = 440) -> dict:
    return {
        "title": {"text": esc(title), "x": 0.01, "xanchor": "left", "font": {"size": 15}},
        "xaxis": {"automargin": True, "zeroline": False, "gridcolor": "#e5e5e5", **x},
        "yaxis": {"automargin": True, "zeroline": False, "gridcolor": "#e5e5e5", **y},
        "hovermode": "closest",
        "showlegend": True,  # also for a single series: the legend names it and toggles it
        "legend": {"orientation": "h", "yref": "container", "yanchor": "bottom", "y": 0, "x": 0,
                   "itemclick": "toggle", "itemdoubleclick": "toggleothers"},
        "margin": {"l": 56, "r": 16, "t": 48, "b": 40},
        "height": height,
        "font": {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 13},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
    }  # fmt: skip


def _error_y(points: list[dict]) -> dict | None:
    up = [(_num(p.get("ci_high")) or p["y"]) - p["y"] for p in points]
    down = [p["y"] - (_num(p.get("ci_low")) or p["y"]) for p in points]
    if not any(up) and not any(down):
        return None
    return {"type": "data", "symmetric": False, "array": up, "arrayminus": down, "thickness": 1.2, "width": 3}


def scatter(name: str, points: list[dict], st: dict, mode: str = "markers", group: str | None = None) -> dict:
    """One trace; each point is {x, y, ci_low?, ci_high?, hover (already escaped)}."""
    trace = {
        "type": "scatter",
        "mode": mode,
        "name": esc(name),
        "x": [p["x"] for p in points],
        "y": [p["y"] for p in points],
        "text": [p["hover"] for p in points],
        "hovertemplate": HOVER,
        "marker": {"color": st["color"], "symbol": st["symbol"], "size": 10, "line": {"width": 1, "color": "#ffffff"}},
        "line": {"color": st["color"], "dash": st["dash"], "width": 2},
    }
    if group:
        trace["legendgroup"] = esc(group)
    err = _error_y(points)
    if err:
        err["color"] = st["color"]
        trace["error_y"] = err
    return trace


def pareto(points: list[dict], minimize_x: bool) -> list[dict]:
    """The points no other point beats on both axes (higher y, and lower x or higher x), sorted by x."""
    ordered = sorted(points, key=lambda p: (p["x"] if minimize_x else -p["x"], -p["y"]))
    front, best = [], -math.inf
    for p in ordered:
        if p["y"] > best:
            front.append(p)
            best = p["y"]
    return sorted(front, key=lambda p: p["x"])


def frontier_trace(front: list[dict], minimize_x: bool) -> dict:
    return {
        "type": "scatter",
        "mode": "lines",
        "name": "Pareto frontier",
        "x": [p["x"] for p in front],
        "y": [p["y"] for p in front],
        "line": {"shape": "hv" if minimize_x else "vh", "color": "#666666", "dash": "dash", "width": 1.5},
        "hoverinfo": "skip",
    }


LABEL_GAP = 0.06  # scores closer than this (on the 0..1 axis) would print their labels on top of each other


def _cluster_labels(refs: list[dict], close) -> list[str]:
    """One label per group of references that sit close together ("A / B (published)" on the first of them,
    nothing on the others), so that labels never overlap; every star keeps its own hover text."""
    labels = [""] * len(refs)
    head = None
    for i in sorted(range(len(refs)), key=lambda i: (-refs[i]["y"], refs[i].get("x") or 0)):
        if head is not None and close(refs[head], refs[i]):
            names = labels[head].removesuffix(" (published)")
            labels[head] = f"{names} / {esc(refs[i]['name'])} (published)"
        else:
            head = i
            labels[i] = f"{esc(refs[i]['name'])} (published)"
    return labels


def _reference_points_trace(refs: list[dict], log_x: bool, x_mid: float) -> dict:
    def pos(x: float) -> float:
        return math.log10(x) if log_x else x

    labels = _cluster_labels(refs, lambda a, b: abs(pos(a["x"]) - pos(b["x"])) < 0.5 and abs(a["y"] - b["y"]) < LABEL_GAP)
    return {
        "type": "scatter",
        "mode": "markers+text",
        "name": "published (frontier)",
        "x": [r["x"] for r in refs],
        "y": [r["y"] for r in refs],
        "text": labels,
        "textposition": ["top right" if pos(r["x"]) <= x_mid else "top left" for r in refs],
        "textfont": {"size": 11, "color": PUBLISHED},
        "cliponaxis": False,
        "customdata": [r["hover"] for r in refs],
        "hovertemplate": "%{customdata}<extra></extra>",
        "marker": {"symbol": "star", "size": 15, "color": PUBLISHED, "line": {"width": 1, "color": "#ffffff"}},
        "legendgroup": "published",
    }


def _reference_lines(refs: list[dict], x_lo: float, x_hi: float, legend: bool) -> list[dict]:
    """References without an x value (no RAM or speed is published): a dotted line across the measured range at
    their score, a star at its right end; close scores share one label."""
    labels = _cluster_labels(refs, lambda a, b: abs(a["y"] - b["y"]) < LABEL_GAP)
    traces = []
    for i, (r, label) in enumerate(zip(refs, labels)):
        traces.append({
            "type": "scatter",
            "mode": "lines+markers+text",
            "name": "published (frontier)",
            "showlegend": legend and i == 0,
            "legendgroup": "published",
            "x": [x_lo, x_hi],
            "y": [r["y"], r["y"]],
            "text": ["", label],
            "textposition": "top left",
            "textfont": {"size": 11, "color": PUBLISHED},
            "customdata": [r["hover"], r["hover"]],
            "hovertemplate": "%{customdata}<extra></extra>",
            "line": {"color": PUBLISHED, "dash": "dot", "width": 1},
            "marker": {"symbol": "star", "size": [0, 14], "color": PUBLISHED},
        })  # fmt: skip
    return traces


def tradeoff(title: str, series: dict[str, list[dict]], refs: list[dict], x_title: str, *, log_x: bool,
             minimize_x: bool, styles: dict[str, dict]) -> dict:  # fmt: skip
    """Quality against a cost axis: one trace per model family, the Pareto frontier, and published references.

    ``refs`` with an ``x`` are drawn as points; the others as horizontal lines across the measured range.
    """
    data = [scatter(name, pts, styles[name]) for name, pts in series.items() if pts]
    measured = [p for pts in series.values() for p in pts]
    if measured:
        data.append(frontier_trace(pareto(measured, minimize_x), minimize_x))
    placed = [r for r in refs if _num(r.get("x")) is not None and (not log_x or r["x"] > 0)]
    if placed:
        xs = [math.log10(p["x"]) if log_x else p["x"] for p in measured + placed]
        data.append(_reference_points_trace(placed, log_x, (min(xs) + max(xs)) / 2))
    floating = [r for r in refs if r not in placed]
    if floating and measured:
        xs = [p["x"] for p in measured + placed]
        lo, hi = min(xs), max(xs)
        pad = 0.1 * (hi - lo or hi or 1)
        lo, hi = (lo / 1.5, hi * 1.5) if log_x else (max(0.0, lo - pad) if lo >= 0 else lo - pad, hi + pad)
        data.extend(_reference_lines(floating, lo, hi, legend=not placed))
    x_axis = {"title": {"text": esc(x_title)}}
    if log_x:
        x_axis["type"] = "log"
    return {"data": data, "layout": layout(title, x_axis, {"title": {"text": "quality (mean item score)"}, "tickformat": ".0%"})}


def lines(title: str, series: dict[str, list[dict]], styles: dict[str, dict], x_title: str, y_title: str, *,
          log_x: bool = False, log_y: bool = False, y_pct: bool = True) -> dict:  # fmt: skip
    """One line (with markers and CI bars) per series, sorted by x."""
    data = []
    for name, pts in series.items():
        if pts:
            data.append(scatter(name, sorted(pts, key=lambda p: p["x"]), styles[name], mode="lines+markers"))
    x_axis = {"title": {"text": esc(x_title)}, **({"type": "log"} if log_x else {})}
    y_axis = {"title": {"text": esc(y_title)}, **({"type": "log"} if log_y else {}), **({"tickformat": ".0%"} if y_pct else {})}
    return {"data": data, "layout": layout(title, x_axis, y_axis)}


def heatmap(title: str, rows: list[str], cols: list[str], z: list[list], hover: list[list[str]]) -> dict:
    """Models × subjects, colour = score (Cividis: readable with colour-vision deficiency and in greyscale)."""
    height = max(260, 140 + 30 * len(rows))
    fig = {
        "data": [{
            "type": "heatmap",
            "x": [esc(c) for c in cols],
            "y": [esc(r) for r in rows],
            "z": z,
            "text": hover,
            "hovertemplate": HOVER,
            "colorscale": "Cividis",
            "zmin": 0,
            "zmax": 1,
            "xgap": 1,
            "ygap": 1,
            "colorbar": {"title": {"text": "accuracy"}, "tickformat": ".0%", "thickness": 12},
        }],
        "layout": layout(title, {"tickangle": -50, "automargin": True, "type": "category", "dtick": 1},
                         {"automargin": True, "type": "category", "autorange": "reversed"}, height=height),
    }  # fmt: skip
    fig["layout"]["margin"]["b"] = 120
    return fig
