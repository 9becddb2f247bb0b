"""The first decoding of an image folder told on a stream: a line redrawn in place on a terminal.

Decoding a million images takes minutes, once; the person at the terminal
should see that it moves and how far it has to go. Elsewhere (a log file, a
pipe) one line says it starts and one that it is done.
"""

from __future__ import annotations

import time
from typing import TextIO

REDRAW_S = 0.2  # a terminal redrawn more often only flickers


class DecodeProgress:
    """A ``progress(done, total)`` callback for ``prepare`` that writes to ``stream``."""

    def __init__(self, stream: TextIO, tty: bool | None = None) -> None:
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self._started = self._last_draw = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done == 0:
            self._started = now
            if not self.tty:
                self._write(f"decoding {total:,} images into the cache (once for this folder and size)\n")
        if done >= total:
            self._write(f"{self._erase()}decoded {total:,} images in {now - self._started:.1f} s\n")
        elif self.tty and (done == 0 or now - self._last_draw >= REDRAW_S):
            self._last_draw = now
            self._write(f"\rdecoding images: {done:,} of {total:,} ({100 * done // max(total, 1)}%)")

    def _erase(self) -> str:
        return "\r\x1b[K" if self.tty else ""

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
