"""JSON Lines files: one JSON object per line (blank lines skipped)."""

from __future__ import annotations

import json
from pathlib import Path

from evalkit.errors import ConfigError

EXT = "jsonl"


def read(path: Path, spec) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}: line {n} is not valid JSON ({exc.msg}). Fix the file.") from None
            if not isinstance(row, dict):
                raise ConfigError(f"{path}: line {n} is not a JSON object. Write one object per line.")
            rows.append(row)
    return rows
