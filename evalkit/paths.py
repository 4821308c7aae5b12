"""Where evalkit keeps its caches and finds its bundled files."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """evalkit's cache folder: $EVALKIT_CACHE, else ~/.cache/evalkit."""
    root = os.environ.get("EVALKIT_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "evalkit")
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def bundled_suites_dir() -> Path:
    """The suites shipped with evalkit: inside the wheel, or the repository's suites/ in a checkout."""
    here = Path(__file__).resolve().parent
    packaged = here / "_bundled_suites"
    if packaged.is_dir():
        return packaged
    return here.parent / "suites"
