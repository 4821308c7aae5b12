"""Item sources: where a suite's items come from (the Hub, local files, a built-in generator).

One module per source type; each offers ``subsets(suite) -> list[str]`` and
``load(suite, subsets, directory, seed) -> dict[str, SubsetData]``.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from evalkit.errors import ConfigError
from evalkit.suite import Suite
from evalkit.types import SubsetData

SOURCES = {
    "mmlu": "evalkit.sources.mmlu",
    "jsonl": "evalkit.sources.files",
    "csv": "evalkit.sources.files",
    "conll": "evalkit.sources.files",
    "hf": "evalkit.sources.files",
    "generator": "evalkit.sources.generated",
}


def data_dir(explicit: str | Path | None = None) -> Path | None:
    """The offline data directory: --data-dir, else $EVALKIT_DATA_DIR, else None (use the Hub)."""
    value = explicit or os.environ.get("EVALKIT_DATA_DIR")
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        raise ConfigError(f"data directory not found: {path}. Pass an existing folder to --data-dir or EVALKIT_DATA_DIR.")
    return path


def _module(suite: Suite):
    name = SOURCES.get(suite.source.type)
    if name is None:
        raise ConfigError(f"{suite.path}: source type '{suite.source.type}' is not supported. Use one of: {', '.join(SOURCES)}.")
    return importlib.import_module(name)


def list_subsets(suite: Suite) -> list[str]:
    """All subset names a suite offers."""
    return _module(suite).subsets(suite)


def load_subsets(suite: Suite, subsets: list[str], directory: Path | None, seed: int | None = None) -> dict[str, SubsetData]:
    """Load the named subsets (each with its few-shot pool); raise DataUnavailable if unreachable.

    *seed* overrides a generated suite's own seed (``evalkit run --seed``); other sources ignore it.
    """
    directory = Path(directory) if directory is not None else None
    return _module(suite).load(suite, subsets, directory, seed)


def availability(suite: Suite, directory: Path | None) -> str:
    """A short description of where this suite's data would come from now (for `evalkit suites`)."""
    return _module(suite).availability(suite, directory)
