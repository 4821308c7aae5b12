"""Item sources: where a suite's items come from (the Hub, a local directory, a generator)."""

from __future__ import annotations

import os
from pathlib import Path

from evalkit.errors import ConfigError
from evalkit.suite import Suite
from evalkit.types import SubsetData


def data_dir(explicit: str | Path | None = None) -> Path | None:
    """The offline data directory: --data-dir, else $EVALKIT_DATA_DIR, else None (use the Hub)."""
    value = explicit or os.environ.get("EVALKIT_DATA_DIR")
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        raise ConfigError(f"data directory not found: {path}. Pass an existing folder to --data-dir or EVALKIT_DATA_DIR.")
    return path


def list_subsets(suite: Suite) -> list[str]:
    """All subset names a suite offers."""
    if suite.source.type == "mmlu":
        from evalkit.sources import mmlu

        return mmlu.all_subjects(suite)
    return sorted({s for group in suite.groups.values() for s in group}) or ["default"]


def load_subsets(suite: Suite, subsets: list[str], directory: Path | None) -> dict[str, SubsetData]:
    """Load the named subsets (each with its few-shot pool); raise DataUnavailable if unreachable."""
    directory = Path(directory) if directory is not None else None
    if suite.source.type == "mmlu":
        from evalkit.sources import mmlu

        return mmlu.load(suite, subsets, directory)
    raise ConfigError(f"{suite.path}: source type '{suite.source.type}' is not supported by this evalkit version.")
