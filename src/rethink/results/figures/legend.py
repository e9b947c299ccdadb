"""Legends that hide no data: the first place inside the axes where no line, marker,
band or note falls, else below the axes.

    place_legend(ax, legend_handles(ax, banded))   # after drawing everything else
    legend_hides_data(ax)                          # whether the legend covers data

Each place in `LEGEND_LOCS` is tried in turn: the figure is drawn (no
rendering), and the legend's box, padded by the line widths and marker sizes,
is tested against every drawn point of every line (densified to a point per
pixel along its segments), every band's outline and area, and every note and
patch. Where no place is free, the legend goes below the axes (and the x
label), the figure growing to hold it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import Bbox

from rethink.results.figures.style import BAND

# Places tried for a legend inside the axes, in order; below the axes if none is free.
LEGEND_LOCS: tuple[Any, ...] = (
    "upper right",
    "upper left",
    "lower left",
    "lower right",
    "center right",
    "center left",
    "upper center",
    "lower center",
    "center",
)
LEGEND_PAD_PX = 2.0  # clearance between a legend and the data, in display pixels


def _densify(xy: np.ndarray, spacing: float = 1.0) -> np.ndarray:
    """Points every `spacing` pixels along a polyline; NaN vertices break it."""
    ok = np.isfinite(xy).all(axis=1)
    out = [xy[ok]]
    a, b = xy[:-1], xy[1:]
    seg = ok[:-1] & ok[1:]
    a, b = a[seg], b[seg]
    if len(a):
        n = np.ceil(np.hypot(*(b - a).T) / spacing).astype(int)
        keep = n > 1
        for p, q, k in zip(a[keep], b[keep], n[keep], strict=True):
            t = np.linspace(0, 1, k + 1)[1:-1, None]
            out.append(p + t * (q - p))
    return np.concatenate(out) if out else np.empty((0, 2))


def _line_points(line: Line2D) -> tuple[np.ndarray, float]:
    """A line's drawn points in display coordinates and their radius (pixels)."""
    xy = line.get_transform().transform(line.get_path().vertices)
    if line.get_linestyle() not in ("None", "none", "", " "):
        xy = _densify(xy)
    else:
        xy = xy[np.isfinite(xy).all(axis=1)]
    dpi = line.figure.dpi if line.figure is not None else 72.0
    marker = line.get_markersize() if line.get_marker() not in (None, "None", "") else 0.0
    radius = (max(marker, line.get_linewidth()) / 2) * dpi / 72
    return xy, radius


def _inside(xy: np.ndarray, box: Bbox) -> np.ndarray:
    return (xy[:, 0] >= box.x0) & (xy[:, 0] <= box.x1) & (xy[:, 1] >= box.y0) & (xy[:, 1] <= box.y1)


def _visible(ax: Axes, artist: Artist, xy: np.ndarray) -> np.ndarray:
    """The points an artist clipped to the axes actually shows."""
    return xy[_inside(xy, ax.bbox)] if artist.get_clip_on() else xy


def legend_hides_data(ax: Axes, legend: Legend | None = None) -> bool:
    """Whether the legend covers a line, marker, band or note of `ax` (after a draw)."""
    legend = legend or ax.get_legend()
    if legend is None:
        return False
    box = legend.get_window_extent()
    for line in ax.get_lines():
        xy, radius = _line_points(line)
        padded = box.padded(radius + LEGEND_PAD_PX)
        if _inside(_visible(ax, line, xy), padded).any():
            return True
    corners = np.array([[box.x0, box.y0], [box.x0, box.y1], [box.x1, box.y0], [box.x1, box.y1]])
    probes = np.concatenate([corners, [[(box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2]]])
    for coll in ax.collections:  # the min-max bands
        transform = coll.get_transform()
        for path in coll.get_paths():
            display = transform.transform_path(path)
            edge = _visible(ax, coll, _densify(np.asarray(display.vertices, dtype=float)))
            if _inside(edge, box.padded(LEGEND_PAD_PX)).any():
                return True
            if display.contains_points(probes).any():
                return True
    shown = [*ax.texts, *ax.patches]  # notes, and the strip of runs that never fitted
    return any(a.get_window_extent().overlaps(box) for a in shown if a.get_visible())


def place_legend(ax: Axes, handles: list[Any], **kw: Any) -> Legend:
    """The legend inside the axes where it hides no data, else below the axes."""
    fig = ax.figure
    assert isinstance(fig, Figure)
    for loc in LEGEND_LOCS:
        legend = ax.legend(handles=handles, loc=loc, frameon=False, **kw)
        fig.draw_without_rendering()
        if not legend_hides_data(ax, legend):
            return legend
        legend.remove()
    # Below the axes (and below the x label), the figure growing to make room.
    columns = 2 if len(handles) > 3 else 1
    legend = ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.16),
        bbox_transform=ax.transAxes,
        ncols=columns,
        frameon=False,
        **kw,
    )
    fig.draw_without_rendering()
    height = legend.get_window_extent().height / fig.dpi
    fig.set_figheight(fig.get_figheight() + height + 0.1)
    fig.draw_without_rendering()
    return legend


def legend_labels(ax: Axes) -> list[str]:
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend else []


def legend_handles(ax: Axes, banded: bool, extra: Iterable[Any] = ()) -> list[Any]:
    handles, _ = ax.get_legend_handles_labels()
    if banded:
        handles.append(Patch(facecolor="gray", alpha=0.3, label=BAND))
    return [*handles, *extra]
