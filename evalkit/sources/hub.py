"""Rows of a Hugging Face Hub dataset (online users), via the ``datasets`` package.

Fails fast when the Hub cannot be reached, with one line naming both ways out:
connect, or point ``--data-dir`` at a local copy. Class-label columns (and lists
of them, e.g. NER tags) are turned into their label names.
"""

from __future__ import annotations

from evalkit.errors import DataUnavailable
from evalkit.suite import Suite


def unreachable(suite: Suite, why: str, local_hint: str) -> DataUnavailable:
    return DataUnavailable(
        f"{suite.name} data unreachable: the Hugging Face Hub ({suite.source.hf}) {why}, and {local_hint}. "
        "Connect to the internet, or pass --data-dir DIR (or set EVALKIT_DATA_DIR) to a folder holding a local copy."
    )


def _label_names(features) -> dict[str, list[str]]:
    import datasets

    out = {}
    for key, feat in (features or {}).items():
        inner = getattr(feat, "feature", None)
        if isinstance(feat, datasets.ClassLabel):
            out[key] = ("one", feat.names)
        elif isinstance(inner, datasets.ClassLabel):
            out[key] = ("many", inner.names)
    return out


def rows(suite: Suite, split: str, local_hint: str) -> list[dict]:
    """All rows of one split, label ids replaced by label names."""
    try:
        import datasets
    except ImportError:
        raise unreachable(suite, "needs the 'datasets' package (pip install datasets)", local_hint) from None
    from evalkit.netcheck import hub_reachable

    if not hub_reachable():
        raise unreachable(suite, "cannot be reached", local_hint)
    src = suite.source
    try:
        ds = datasets.load_dataset(src.hf, src.hf_config, split=split, revision=src.hf_revision)
    except Exception as exc:  # network, missing split, script-only dataset...
        first = str(exc).splitlines()[0][:160] if str(exc) else ""
        raise unreachable(suite, f"failed ({type(exc).__name__}: {first})", local_hint) from None
    names = _label_names(ds.features)
    out = []
    for row in ds:
        row = dict(row)
        for key, (how, labels) in names.items():
            value = row.get(key)
            if how == "one" and isinstance(value, int) and 0 <= value < len(labels):
                row[key] = labels[value]
            elif how == "many" and isinstance(value, list):
                row[key] = [labels[v] if isinstance(v, int) and 0 <= v < len(labels) else v for v in value]
        out.append(row)
    return out
