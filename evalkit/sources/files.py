"""Record sources: a local copy (JSONL, CSV or CoNLL files) when one is found, else the Hugging Face Hub.

``local`` is looked up under the data directory (``--data-dir`` / ``EVALKIT_DATA_DIR``)
first, then next to the suite file. It is a folder (split files named by ``files``,
default ``<split>.<ext>``) or one file (holding the main split, or all splits with
``split_field``).
"""

from __future__ import annotations

import hashlib
import importlib
from pathlib import Path

from evalkit.errors import DataUnavailable
from evalkit.sources import hub, records
from evalkit.suite import Suite
from evalkit.types import SubsetData

READERS = {"jsonl": "evalkit.sources.jsonl", "csv": "evalkit.sources.csvfile", "conll": "evalkit.sources.conll"}


def subsets(suite: Suite) -> list[str]:
    return ["default"]


def _candidates(suite: Suite, directory: Path | None) -> list[Path]:
    local = suite.source.local
    if not local or suite.source.type == "hf":
        return []
    if Path(local).expanduser().is_absolute():
        return [Path(local).expanduser()]
    roots = ([directory] if directory is not None else []) + ([suite.folder] if suite.folder else [])
    return [root / local for root in roots]


def locate(suite: Suite, directory: Path | None) -> Path | None:
    """The local copy (file or folder), or None."""
    return next((p for p in _candidates(suite, directory) if p.exists()), None)


def split_file(suite: Suite, root: Path, split: str) -> Path | None:
    src = suite.source
    if root.is_file():
        if split in src.files:
            return root.parent / src.files[split]
        return root if (split == src.split or src.split_field) else None
    reader = importlib.import_module(READERS[src.type])
    return root / src.files.get(split, f"{split}.{reader.EXT}")


def _local_rows(suite: Suite, root: Path, split: str) -> list[dict] | None:
    path = split_file(suite, root, split)
    if path is None or not path.is_file():
        return None
    rows = importlib.import_module(READERS[suite.source.type]).read(path, suite.source)
    field = suite.source.split_field
    return [r for r in rows if str(r.get(field)) == split] if field else rows


def _hint(suite: Suite, directory: Path | None) -> str:
    looked = [str(p) for p in _candidates(suite, directory)]
    if not suite.source.local or suite.source.type == "hf":
        return "this suite has no local copy configured"
    where = ", ".join(looked) if looked else f"DIR/{suite.source.local} (no --data-dir given)"
    return f"no local copy was found (looked for {where})"


def availability(suite: Suite, directory: Path | None) -> str:
    root = locate(suite, directory)
    if root is not None:
        return f"local: {root}"
    return f"hub: {suite.source.hf}" if suite.source.hf else "missing"


def _rows(suite: Suite, directory: Path | None) -> tuple[list[dict], list[dict], bool]:
    src = suite.source
    root = locate(suite, directory)
    if root is not None:
        test = _local_rows(suite, root, src.split)
        if test is None:
            raise DataUnavailable(
                f"{suite.name}: the local copy {root} has no '{src.split}' split "
                f"(expected {split_file(suite, root, src.split)}). Fix --data-dir or `files` in the suite."
            )
        pool = (_local_rows(suite, root, src.fewshot_split) or []) if src.fewshot_split else []
        return test, pool, False
    if not src.hf:
        raise DataUnavailable(f"{suite.name} data not found: {_hint(suite, directory)}. Pass --data-dir DIR holding it.")
    hint = _hint(suite, directory)
    test = hub.rows(suite, src.hf_split or src.split, hint)
    fs = src.hf_fewshot_split or src.fewshot_split
    pool = hub.rows(suite, fs, hint) if fs else []
    return test, pool, True


def load(suite: Suite, names: list[str], directory: Path | None, seed: int | None = None) -> dict[str, SubsetData]:
    test, pool, from_hub = _rows(suite, directory)
    items = records.to_items(suite, test, suite.source.split, from_hub)
    if suite.source.shuffle:  # the same order for every run, variant and machine
        items.sort(key=lambda it: hashlib.sha256(f"evalkit-shuffle:{it.id}".encode()).hexdigest())
    shots = records.to_items(suite, pool, suite.source.fewshot_split or "fewshot", from_hub) if pool else []
    return {name: SubsetData(name, items, shots) for name in names}
