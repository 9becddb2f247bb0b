"""Where the dataset layer keeps what it makes: decoded-image caches and downloads."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def user_cache_dir() -> Path:
    """``$DESIGNER_CACHE_DIR``, else the platform's per-user cache folder + ``designer``."""
    if os.environ.get("DESIGNER_CACHE_DIR"):
        return Path(os.environ["DESIGNER_CACHE_DIR"])
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "designer" / "cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "designer"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "designer"


def image_cache_dir() -> Path:
    """Decoded image folders, one ``.npz`` per folder listing and target size."""
    return user_cache_dir() / "images"


def downloads_dir() -> Path:
    """Where ``download_dataset`` puts files unless told otherwise."""
    return user_cache_dir() / "datasets"
