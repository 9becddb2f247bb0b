"""How much memory this process may use, so a network too large for it is refused before allocating.

Building ``Linear(2**20, 2**20)`` asks the allocator for 4 TB at once: torch
raises deep inside ``nn.Module.__init__`` (or the kernel kills the process).
The parameter count is known before any tensor exists, so the compiler compares
``parameters × 4 bytes`` with the smallest of the machine's physical memory, a
cgroup's limit (containers, CI runners) and the address-space rlimit.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

FLOAT32 = 4
_CGROUP_LIMITS = (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"))


def format_bytes(size: float) -> str:
    """Bytes in decimal units with three significant digits: 950 B, 247 kB, 4.84 MB, 1.2 GB."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{int(size)} B"


def memory_limit() -> int | None:
    """The most memory this process can have, in bytes; ``None`` where no figure can be read."""
    limits = [n for n in (_physical_memory(), _cgroup_limit(), _address_space_limit()) if n]
    return min(limits) if limits else None


def too_big_for_memory(params: int) -> str | None:
    """Why ``params`` float32 parameters cannot be held here, in one line; ``None`` when they can."""
    limit = memory_limit()
    needed = params * FLOAT32
    if limit is None or needed <= limit:
        return None
    return (f"its {params:,} parameters need {format_bytes(needed)} as float32, more than the "
            f"{format_bytes(limit)} of memory this machine has")


def _physical_memory() -> int | None:
    if sys.platform == "win32":
        return _windows_memory()
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def _cgroup_limit() -> int | None:
    for path in _CGROUP_LIMITS:
        try:
            text = path.read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 1 << 60:  # "max", or cgroup v1's "no limit" of 2⁶³
            return int(text)
    return None


def _address_space_limit() -> int | None:
    try:
        import resource
    except ImportError:  # Windows
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return None if soft == resource.RLIM_INFINITY else soft


def _windows_memory() -> int | None:
    import ctypes

    class MemoryStatus(ctypes.Structure):
        _fields_ = [("length", ctypes.c_ulong), ("load", ctypes.c_ulong), ("total", ctypes.c_ulonglong),
                    ("available", ctypes.c_ulonglong), ("page_total", ctypes.c_ulonglong),
                    ("page_available", ctypes.c_ulonglong), ("virtual_total", ctypes.c_ulonglong),
                    ("virtual_available", ctypes.c_ulonglong), ("extended", ctypes.c_ulonglong)]

    status = MemoryStatus()
    status.length = ctypes.sizeof(MemoryStatus)
    if not ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):  # type: ignore[attr-defined]
        return None
    return int(status.total)
