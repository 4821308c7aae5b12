"""MMLU items from the Hugging Face Hub (cais/mmlu) or a local copy in the original CSV layout."""

from __future__ import annotations

import csv
from pathlib import Path

from evalkit.errors import DataUnavailable
from evalkit.suite import Suite
from evalkit.types import Item, SubsetData

LETTERS = "ABCD"


def all_subjects(suite: Suite) -> list[str]:
    return sorted({s for group in suite.groups.values() for s in group})


def local_root(suite: Suite, directory: Path) -> Path | None:
    """The folder holding dev/ and test/: DIR/<local>/ or DIR itself."""
    for cand in (directory / (suite.source.local or "mmlu"), directory):
        if (cand / suite.source.split).is_dir():
            return cand
    return None


def _read_csv(path: Path, subject: str, split: str) -> list[Item]:
    items = []
    with path.open(newline="", encoding="utf-8") as fh:
        for i, row in enumerate(csv.reader(fh)):
            if len(row) != 6 or row[5].strip() not in LETTERS:
                raise DataUnavailable(f"{path}: row {i + 1} is not 'question,A,B,C,D,answer'. Use the original MMLU CSV files.")
            items.append(
                Item(
                    id=f"{subject}/{split}/{i}",
                    subset=subject,
                    fields={"question": row[0], "choices": row[1:5]},
                    target=row[5].strip(),
                )
            )
    return items


def _load_local(suite: Suite, subjects: list[str], root: Path) -> dict[str, SubsetData]:
    out = {}
    fs_split = suite.source.fewshot_split or "dev"
    for subject in subjects:
        test = root / suite.source.split / f"{subject}_{suite.source.split}.csv"
        if not test.exists():
            raise DataUnavailable(f"MMLU file missing: {test}. Point --data-dir at a complete copy of the MMLU CSV data.")
        dev = root / fs_split / f"{subject}_{fs_split}.csv"
        pool = _read_csv(dev, subject, fs_split) if dev.exists() else []
        out[subject] = SubsetData(subject, _read_csv(test, subject, suite.source.split), pool)
    return out


def _hf_items(rows, subject: str, split: str) -> list[Item]:
    return [
        Item(
            id=f"{subject}/{split}/{i}",
            subset=subject,
            fields={"question": r["question"], "choices": list(r["choices"])},
            target=LETTERS[int(r["answer"])],
        )
        for i, r in enumerate(rows)
    ]


def _load_hf(suite: Suite, subjects: list[str]) -> dict[str, SubsetData]:
    try:
        import datasets
    except ImportError:
        raise DataUnavailable("loading MMLU from the Hub needs the 'datasets' package: pip install datasets.") from None
    from evalkit.netcheck import hub_reachable

    if not hub_reachable():
        raise DataUnavailable(
            f"MMLU data unreachable: the Hugging Face Hub ({suite.source.hf}) cannot be reached and no local copy is set. "
            "Connect to the internet, or pass --data-dir DIR (or set EVALKIT_DATA_DIR) to a folder holding "
            "mmlu/dev/*.csv and mmlu/test/*.csv."
        )
    hf_split = {"val": "validation"}
    split = hf_split.get(suite.source.split, suite.source.split)
    fs_split = hf_split.get(suite.source.fewshot_split or "dev", suite.source.fewshot_split or "dev")
    out = {}
    for subject in subjects:
        try:
            test = datasets.load_dataset(suite.source.hf, subject, split=split)
            dev = datasets.load_dataset(suite.source.hf, subject, split=fs_split)
        except Exception as exc:
            raise DataUnavailable(
                f"MMLU data unreachable: the Hugging Face Hub ({suite.source.hf}) failed ({type(exc).__name__}) and no "
                "local copy is set. Connect to the internet, or pass --data-dir DIR (or set EVALKIT_DATA_DIR) "
                "to a folder holding mmlu/dev/*.csv and mmlu/test/*.csv."
            ) from None
        out[subject] = SubsetData(subject, _hf_items(test, subject, split), _hf_items(dev, subject, fs_split))
    return out


def subsets(suite: Suite) -> list[str]:
    return all_subjects(suite)


def availability(suite: Suite, directory: Path | None) -> str:
    if directory is not None and local_root(suite, directory) is not None:
        return f"local: {local_root(suite, directory)}"
    return f"hub: {suite.source.hf}"


def load(suite: Suite, subjects: list[str], directory: Path | None, seed: int | None = None) -> dict[str, SubsetData]:
    if directory is not None:
        root = local_root(suite, directory)
        if root is None:
            raise DataUnavailable(
                f"no MMLU data under {directory}: expected {directory}/mmlu/{suite.source.split}/*.csv. "
                "Fix --data-dir / EVALKIT_DATA_DIR, or unset it to download from the Hugging Face Hub."
            )
        return _load_local(suite, subjects, root)
    return _load_hf(suite, subjects)
