"""Growing numeric columns for the live plots, and the debiased EMA that smooths them (no Qt).

A training run adds a few points 10 times a second and may reach millions, so a
column is a numpy buffer whose capacity doubles when full: appending costs
amortised O(new points) and ``view`` hands the plot the filled part without a
copy. The smoothing is TensorBoard's: ``ema_t = β·ema_{t-1} + (1-β)·x_t`` from
``ema_0 = 0``, divided by ``1 - β^t`` so that the first points are not pulled
towards zero. New points extend the EMA from its saved state; a new β
re-smooths the whole column, vectorised (:func:`linear_recurrence`), so that a
slider drag over a million points stays interactive.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

X_MODES = ("step", "epoch", "time")  # what the x axis counts: optimizer steps, epochs, seconds since start
MIN_CAPACITY = 64
MAX_CHUNK = 4096
# A chunk's weights run from 1 up to a^-(L-1); kept below this so that
# values up to ~1e100 cannot overflow while they are scaled.
MAX_SCALE_EXPONENT = 200.0


class GrowingArray:
    """A 1-D float64 column with amortised O(1) append; ``view`` is the filled part, not a copy."""

    def __init__(self, capacity: int = MIN_CAPACITY) -> None:
        self._data: Array = np.empty(max(capacity, 1), dtype=np.float64)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @property
    def view(self) -> Array:
        return self._data[:self._size]

    def append(self, values: npt.ArrayLike) -> None:
        new = np.asarray(values, dtype=np.float64).ravel()
        end = self._size + len(new)
        if end > len(self._data):
            grown = np.empty(max(end, 2 * len(self._data)), dtype=np.float64)
            grown[:self._size] = self._data[:self._size]
            self._data = grown  # views handed out earlier keep the old buffer alive and unchanged
        self._data[self._size:end] = new
        self._size = end

    def truncate(self, size: int) -> None:
        self._size = max(0, min(size, self._size))


@dataclass
class EmaState:
    """Where a debiased EMA stands: the biased average and how many points went into it."""

    biased: float = 0.0
    count: int = 0


def linear_recurrence(u: Array, a: float, init: float = 0.0) -> Array:
    """``y_t = a·y_{t-1} + u_t`` with ``y_{-1} = init``, for 0 ≤ a < 1, without a Python loop per point.

    The points are cut into chunks of L; inside a chunk the recurrence is a
    scaled cumulative sum (``y_i = a^i · Σ_k a^-k u_k``, L chosen so that a^-L
    stays far from overflow), and the chunks' ends follow the same recurrence
    with factor a^L, solved the same way one level down.
    """
    n = len(u)
    if n == 0 or a == 0.0:
        return u.astype(np.float64, copy=True)
    chunk = _chunk_length(a, n)
    if chunk <= 1:  # a^1 is below 1e-200: older points are lost to rounding anyway
        y = u.astype(np.float64, copy=True)
        y[1:] += a * u[:-1]
        y[0] += a * init
        return y
    rows = -(-n // chunk)
    padded = np.zeros(rows * chunk, dtype=np.float64)
    padded[:n] = u
    powers = a ** np.arange(chunk, dtype=np.float64)
    local = np.cumsum(padded.reshape(rows, chunk) / powers, axis=1) * powers
    ends = linear_recurrence(local[:, -1].copy(), a ** chunk, init)
    before = np.concatenate(([init], ends[:-1]))
    local += np.outer(before, a * powers)  # what each chunk inherits from the points before it
    return local.reshape(-1)[:n]


def _chunk_length(a: float, n: int) -> int:
    exponent = -math.log10(a)
    if exponent <= 0.0:
        return min(n, MAX_CHUNK)
    return int(min(n, MAX_CHUNK, MAX_SCALE_EXPONENT / exponent))


def debiased_ema(values: Array, beta: float, state: EmaState) -> Array:
    """Smooth ``values`` after the points ``state`` has seen, and move ``state`` past them.

    Non-finite values are left out of the average (TensorBoard does the same)
    and come back as NaN.
    """
    finite = np.isfinite(values)
    all_finite = bool(finite.all())
    kept = values if all_finite else values[finite]
    if len(kept) == 0:
        return np.full(len(values), np.nan)
    smoothed = linear_recurrence((1.0 - beta) * kept, beta, state.biased)
    state.biased = float(smoothed[-1])
    # 1 - β^t is 1 to the last bit once β^t < 2^-53: only the first few points need dividing.
    biased_points = _debias_length(beta, state.count, len(kept))
    if biased_points:
        counts = np.arange(state.count + 1, state.count + biased_points + 1, dtype=np.float64)
        smoothed[:biased_points] /= 1.0 - np.power(beta, counts)
    state.count += len(kept)
    if all_finite:
        return smoothed
    out = np.full(len(values), np.nan)
    out[finite] = smoothed
    return out


def _debias_length(beta: float, done: int, n: int) -> int:
    """How many of the next ``n`` points (after ``done``) still have β^t ≥ 1e-17."""
    if beta <= 0.0:
        return 0
    last = math.ceil(17.0 / -math.log10(beta))
    return max(0, min(n, last - done))


def ema_reference(values: Iterable[float], beta: float) -> list[float]:
    """The debiased EMA point by point, as TensorBoard writes it: the definition the tests hold us to."""
    out, last, count = [], 0.0, 0
    for value in values:
        if not math.isfinite(value):
            out.append(math.nan)
            continue
        last = last * beta + (1.0 - beta) * value
        count += 1
        out.append(last / (1.0 - beta ** count))
    return out


def smoothed_key(name: str) -> str:
    """How :meth:`Series.column` names the EMA of column ``name``."""
    return f"{name}:smoothed"


class Series:
    """Points of one or more curves that share their x: one x column per axis mode, named y columns.

    Columns named in ``smooth`` also keep their debiased EMA, extended as
    points arrive; :meth:`set_beta` recomputes it. :meth:`take_changes` says
    from which index each y column changed since it was last asked, so that
    what is derived from the columns can be brought up to date incrementally.
    """

    def __init__(self, columns: Sequence[str], smooth: Sequence[str] = (), beta: float = 0.6) -> None:
        self._x = {mode: GrowingArray() for mode in X_MODES}
        self._y = {name: GrowingArray() for name in columns}
        self._smooth = {name: GrowingArray() for name in smooth}
        self._ema = {name: EmaState() for name in smooth}
        self._changed: dict[str, int] = {}
        self.beta = beta

    def __len__(self) -> int:
        return len(self._x["step"])

    def x(self, mode: str) -> Array:
        return self._x[mode].view

    def y(self, name: str) -> Array:
        return self._y[name].view

    def smoothed(self, name: str) -> Array:
        return self._smooth[name].view

    def column(self, key: str) -> Array:
        """A y column by name, or its EMA by :func:`smoothed_key`."""
        for name, smooth in self._smooth.items():
            if key == smoothed_key(name):
                return smooth.view
        return self._y[key].view

    def take_changes(self) -> dict[str, int]:
        """{column key: first index changed} since the last call (keys as :meth:`column` takes them)."""
        changes, self._changed = self._changed, {}
        return changes

    def _touch(self, index: int, smoothed_only: bool = False) -> None:
        keys = [smoothed_key(name) for name in self._smooth]
        if not smoothed_only:
            keys += list(self._y)
        for key in keys:
            self._changed[key] = min(self._changed.get(key, index), index)

    def append(self, xs: Mapping[str, npt.ArrayLike], ys: Mapping[str, npt.ArrayLike]) -> None:
        """Add points: ``xs`` has values per x mode, ``ys`` per column, all as many."""
        self._touch(len(self))
        for mode, column in self._x.items():
            column.append(xs[mode])
        for name, column in self._y.items():
            column.append(ys[name])
        for name, smooth in self._smooth.items():
            new = self._y[name].view[len(smooth):]
            smooth.append(debiased_ema(new, self.beta, self._ema[name]))

    def set_beta(self, beta: float) -> None:
        if beta == self.beta:
            return
        self.beta = beta
        self._resmooth()

    def truncate_after(self, step: float) -> None:
        """Drop the points past ``step`` (a run resumed from an earlier checkpoint writes them again)."""
        keep = int(np.searchsorted(self.x("step"), step, side="right"))
        if keep == len(self):
            return
        for column in (*self._x.values(), *self._y.values()):
            column.truncate(keep)
        self._touch(keep)
        self._resmooth()

    def _resmooth(self) -> None:
        self._touch(0, smoothed_only=True)
        for name, smooth in self._smooth.items():
            state = self._ema[name] = EmaState()
            smooth.truncate(0)
            smooth.append(debiased_ema(self._y[name].view, self.beta, state))

    def nearest(self, mode: str, x: float) -> int | None:
        """The index of the point whose x is nearest ``x`` (x ascending), or None when empty."""
        xs = self.x(mode)
        if len(xs) == 0:
            return None
        i = int(np.searchsorted(xs, x))
        if i == 0:
            return 0
        if i == len(xs):
            return i - 1
        return i if xs[i] - x < x - xs[i - 1] else i - 1
