"""What a test reads back from a drawn matplotlib figure: legend texts, data under a legend.

legend_texts(fig)          # the first panel's legend entries
covered(ax)                # how many drawn data points its legend hides (after a draw)
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D


def legend_texts(fig: Figure, i: int = 0) -> list[str]:
    """The entries of panel `i`'s legend."""
    legend = fig.axes[i].get_legend()
    assert legend is not None
    return [t.get_text() for t in legend.get_texts()]


def drawn_points(line: Line2D, per_segment: int = 50) -> np.ndarray:
    """Display coordinates of a line's vertices and of points along its segments."""
    xy = line.get_transform().transform(np.column_stack(line.get_data()).astype(float))
    if line.get_linestyle() in ("None", "none", ""):
        return xy
    t = np.linspace(0, 1, per_segment)[:, None, None]
    along = (xy[:-1] + t * (xy[1:] - xy[:-1])).reshape(-1, 2)
    return np.concatenate([xy, along])


def covered(ax: Axes) -> int:
    """How many drawn data points of `ax` lie under its legend (after a draw)."""
    fig = ax.figure
    assert isinstance(fig, Figure)
    fig.draw_without_rendering()
    legend = ax.get_legend()
    assert legend is not None
    box = legend.get_window_extent()
    n = 0
    for line in ax.get_lines():
        xy = drawn_points(line)
        xy = xy[np.isfinite(xy).all(axis=1)]
        if line.get_clip_on():
            xy = xy[[ax.bbox.contains(x, y) for x, y in xy]]
        n += sum(box.contains(x, y) for x, y in xy)
    for coll in ax.collections:  # bands: a probe grid inside the legend box
        probes = np.array(
            [[x, y] for x in np.linspace(box.x0, box.x1, 9) for y in np.linspace(box.y0, box.y1, 9)]
        )
        for path in coll.get_paths():
            n += int(coll.get_transform().transform_path(path).contains_points(probes).sum())
    return n


def open_markers(ax: Axes) -> list[Line2D]:
    """The lines of open (white) markers: runs that never reached the value."""
    return [
        line
        for line in ax.get_lines()
        if line.get_linestyle() == "None" and line.get_markerfacecolor() == "white"
    ]


def figure_legend(fig: Figure) -> list[str]:
    """The labels of a figure's one legend, the figure's own or one in a panel's place."""
    (legend,) = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend())]
    return [t.get_text() for t in legend.get_texts()]


def fill_heights(ax: Axes) -> list[float]:
    """The largest height of each shaded region (fill_between), in data units."""
    heights = []
    for coll in ax.collections:
        (path,) = coll.get_paths()
        xy = path.vertices
        by_x: dict[float, list[float]] = {}
        for x, y in xy:
            by_x.setdefault(round(float(x), 9), []).append(float(y))
        heights.append(max(max(ys) - min(ys) for ys in by_x.values()))
    return heights
