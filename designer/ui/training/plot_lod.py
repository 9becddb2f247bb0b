"""Peak decimation of long columns in O(pixels): a min/max pyramid kept up to date as points arrive (no Qt).

pyqtgraph's own peak downsampling reads every point of a curve on each update
(and copies its x to drop non-finite values first), so a plot of a million
points costs several milliseconds per curve per update however few points
arrived. A :class:`PeakPyramid` stores the minimum and maximum of each block of
2^k consecutive points for k ≥ ``BASE_LEVEL``; appending extends only the last
block of each level (amortised O(new points)), and :meth:`PeakPyramid.decimate`
picks the level where one block covers about one pixel column and returns each
block's max then min at the block's first x, which draws the same envelope as
pyqtgraph's "peak" mode with at most two points per pixel. NaN is left out of
minima and maxima (``fmin``/``fmax``), and the top level, one block, gives the
column's range in O(1) for the plots' y ranges. Levels under
``BASE_LEVEL`` are reduced from the raw points on the fly (at most 2^BASE_LEVEL
points per pixel), which keeps the pyramid at an eighth of the column's size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from designer.ui.training.plot_series import Array, GrowingArray, Series

BASE_LEVEL = 3  # the first stored level: blocks of 8 points


class PeakPyramid:
    """Block minima and maxima of one column; call :meth:`update` whenever the column changes."""

    def __init__(self) -> None:
        self._mins: list[GrowingArray] = []  # _mins[j]: blocks of 2^(BASE_LEVEL + j) points
        self._maxs: list[GrowingArray] = []
        self._size = 0

    def update(self, values: Array, changed_from: int) -> None:
        """``values`` is the whole column; everything from ``changed_from`` on is new or rewritten."""
        start = max(0, min(changed_from, self._size, len(values)))
        self._size = len(values)
        level, lows, highs, block = 0, values, values, 1 << BASE_LEVEL
        while len(lows) > 1:
            if level == len(self._mins):
                self._mins.append(GrowingArray())
                self._maxs.append(GrowingArray())
            first = start >> (BASE_LEVEL + level)  # the first block of this level that changed
            offset = first * block  # where that block starts in the level below
            starts = np.arange(0, len(lows) - offset, block)
            pairs = ((self._mins[level], lows, np.fmin), (self._maxs[level], highs, np.fmax))
            for stored, source, reduce in pairs:
                stored.truncate(first)
                stored.append(reduce.reduceat(source[offset:], starts) if len(starts) else [])
            lows, highs, block = self._mins[level].view, self._maxs[level].view, 2
            level += 1
        del self._mins[level:], self._maxs[level:]

    def bounds(self, values: Array) -> tuple[float, float] | None:
        """The least and greatest finite value of ``values`` (the column last updated), or None if none is."""
        if self._mins:  # the top level is one block: the whole column
            low, high = float(self._mins[-1].view[0]), float(self._maxs[-1].view[0])
        else:  # a single point: no level yet
            finite = values[np.isfinite(values)]
            if len(finite) == 0:
                return None
            low, high = float(finite.min()), float(finite.max())
        return (low, high) if math.isfinite(low) and math.isfinite(high) else None

    def decimate(self, x: Array, y: Array, first: int, end: int, pixels: int) -> tuple[Array, Array]:
        """Points ``first:end`` of (x, y) reduced to at most ~2 per pixel; unchanged when they already fit."""
        count = end - first
        if count <= max(pixels, 1) or count <= 2:
            return x[first:end], y[first:end]
        level = max(0, math.ceil(math.log2(count / max(pixels, 1))))
        if self._mins:
            level = min(level, BASE_LEVEL + len(self._mins) - 1)  # the top level is one block already
        block = 1 << level
        b0, b1 = first >> level, -(-end // block)
        if level < BASE_LEVEL or level - BASE_LEVEL >= len(self._mins):
            part = y[b0 * block:min(b1 * block, len(y))]  # ≤ 2^BASE_LEVEL points a pixel: cheap to reduce
            edges = np.arange(0, len(part), block)
            highs, lows = np.fmax.reduceat(part, edges), np.fmin.reduceat(part, edges)
        else:
            j = level - BASE_LEVEL
            highs, lows = self._maxs[j].view[b0:b1], self._mins[j].view[b0:b1]
        xs = x[np.arange(b0, b0 + len(highs)) * block]
        out_x = np.empty(2 * len(xs) + 1)
        out_y = np.empty(2 * len(xs) + 1)
        out_x[0:-1:2], out_x[1:-1:2] = xs, xs
        out_y[0:-1:2], out_y[1:-1:2] = highs, lows
        last = min(end, len(y)) - 1  # the line ends at the last point, not at its block's start
        out_x[-1], out_y[-1] = x[last], y[last]
        return out_x, out_y


class Decimator:
    """Pyramids for the columns of one :class:`Series` that are drawn as long curves."""

    def __init__(self, series: Series, keys: Sequence[str]) -> None:
        self._series = series
        self._pyramids = {key: PeakPyramid() for key in keys}

    def sync(self) -> None:
        """Bring the pyramids up to date with what changed in the series since the last sync."""
        for key, start in self._series.take_changes().items():
            pyramid = self._pyramids.get(key)
            if pyramid is not None:
                pyramid.update(self._series.column(key), start)

    def bounds(self, key: str) -> tuple[float, float] | None:
        """The range of column ``key``'s finite values, from the pyramid's top: O(1)."""
        return self._pyramids[key].bounds(self._series.column(key))

    def points(self, key: str, mode: str, x_range: tuple[float, float] | None,
               pixels: int) -> tuple[Array, Array]:
        """Column ``key`` against the ``mode`` x within ``x_range`` (None: all of it), ~2 points a pixel."""
        x, y = self._series.x(mode), self._series.column(key)
        first, end = 0, len(x)
        if x_range is not None:  # one point beyond each edge, so that the line runs to the border
            first = max(0, int(np.searchsorted(x, x_range[0])) - 1)
            end = min(len(x), int(np.searchsorted(x, x_range[1], side="right")) + 1)
        return self._pyramids[key].decimate(x, y, first, end, pixels)
