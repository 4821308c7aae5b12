"""CSV files, with a header row or with column names given in the suite (``columns``)."""

from __future__ import annotations

import csv
from pathlib import Path

from evalkit.errors import ConfigError

EXT = "csv"


def read(path: Path, spec) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh, delimiter=spec.delimiter)
        names = list(spec.columns)
        if spec.header:
            first = next(reader, None) or []
            names = names or first
        if not names:
            raise ConfigError(f"{path}: CSV without a header needs `columns = [...]` in [source]. Name the columns.")
        rows = []
        for n, values in enumerate(reader, 2 if spec.header else 1):
            if not values:
                continue
            if len(values) != len(names):
                raise ConfigError(
                    f"{path}: row {n} has {len(values)} fields, expected {len(names)} ({', '.join(names)}). "
                    "Fix the file or `columns` / `delimiter` in [source]."
                )
            rows.append(dict(zip(names, values)))
    return rows
