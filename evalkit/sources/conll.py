"""CoNLL column files: one token per line, first column the token, last column its IOB tag.

Sentences are separated by blank lines; ``-DOCSTART-`` lines (CoNLL-2003) are skipped.
Columns are split on tabs when the line has one (WNUT-17), else on whitespace
(CoNLL-2003's ``token POS chunk NER``). Each record is ``{"tokens": [...], "tags": [...]}``.
"""

from __future__ import annotations

from pathlib import Path

from evalkit.errors import ConfigError

EXT = "txt"


def read(path: Path, spec=None) -> list[dict]:
    rows: list[dict] = []
    tokens: list[str] = []
    tags: list[str] = []

    def flush() -> None:
        if tokens:
            rows.append({"tokens": list(tokens), "tags": list(tags)})
            tokens.clear()
            tags.clear()

    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                flush()
                continue
            cols = line.split("\t") if "\t" in line else line.split()
            if cols[0] == "-DOCSTART-":
                flush()
                continue
            if len(cols) < 2:
                raise ConfigError(f"{path}: line {n} has no tag column ('token ... TAG' expected). Fix the file.")
            tokens.append(cols[0])
            tags.append(cols[-1])
    flush()
    return rows
