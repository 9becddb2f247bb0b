"""How fast a session trains: samples per second and the time left, with paused time left out."""

from __future__ import annotations

import time


class Pace:
    """Steps and epoch times of this session (a resumed run starts a new one)."""

    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.steps = 0
        self.epoch_seconds: list[float] = []

    def skip(self, seconds: float) -> None:
        """Leave ``seconds`` (a pause) out of every rate."""
        self.start += seconds
        self.last += seconds

    def lap(self, samples: int) -> float:
        """Samples per second since the last lap."""
        now = time.perf_counter()
        rate = samples / max(now - self.last, 1e-9)
        self.last = now
        return rate

    def eta(self, steps_left: int) -> float:
        """Seconds to train ``steps_left`` more steps at this session's pace (NaN before the first)."""
        if not self.steps:
            return float("nan")
        return steps_left * (time.perf_counter() - self.start) / self.steps

    def epoch_eta(self, epochs_left: int) -> float:
        if not self.epoch_seconds:
            return float("nan")
        return epochs_left * sum(self.epoch_seconds) / len(self.epoch_seconds)
