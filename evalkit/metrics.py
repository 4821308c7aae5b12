"""Aggregate item results: accuracy with a 95% Wilson interval, and sanity checks on probabilities."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

Z95 = 1.959963984540054


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (better than the normal one near 0 or 1)."""
    if n == 0:
        return (float("nan"), float("nan"))
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def softmax(logprobs: Sequence[float]) -> list[float]:
    """Renormalise choice log-likelihoods into probabilities over the choices."""
    if not logprobs or any(math.isnan(x) for x in logprobs):
        return [float("nan")] * len(logprobs)
    m = max(logprobs)
    exps = [math.exp(x - m) for x in logprobs]
    total = sum(exps)
    return [e / total for e in exps]


def degenerate_flags(probs: Sequence[Sequence[float]], predictions: Sequence[str], targets: Sequence[str]) -> list[str]:
    """Flags for choice probabilities that cannot be real measurements.

    - ``nan``: a probability is NaN;
    - ``all_equal``: every item's choices got the same probability (e.g. every log-likelihood 0.0);
    - ``constant_prediction``: one letter predicted for every item although the gold letters vary.
    """
    flags = []
    if any(math.isnan(p) for row in probs for p in row):
        flags.append("nan")
    if probs and all(row and max(row) - min(row) < 1e-6 for row in probs):
        flags.append("all_equal")
    if len(predictions) >= 10 and len(set(predictions)) == 1 and len(set(targets)) > 1:
        flags.append("constant_prediction")
    return flags


def accuracy_row(correct: Sequence[bool]) -> dict:
    n = len(correct)
    k = sum(1 for c in correct if c)
    low, high = wilson_interval(k, n)
    return {"metric": "accuracy", "value": k / n if n else float("nan"), "ci_low": low, "ci_high": high, "n": n}


def prediction_histogram(predictions: Sequence[str]) -> dict[str, int]:
    return dict(Counter(predictions))


def f1_from_counts(tp: float, n_pred: float, n_gold: float) -> tuple[float, float, float]:
    """(precision, recall, F1) from true positives and the predicted / gold totals (1.0 where both are empty)."""
    p = tp / n_pred if n_pred else (1.0 if n_gold == 0 else 0.0)
    r = tp / n_gold if n_gold else (1.0 if n_pred == 0 else 0.0)
    f = 2 * tp / (n_pred + n_gold) if (n_pred + n_gold) else 1.0
    return p, r, f


def bootstrap_ci(stat, n: int, reps: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of ``stat(indices)`` over resamples of n items (fixed seed: reproducible)."""
    import numpy as np

    if n < 2:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    values = [stat(rng.integers(0, n, n)) for _ in range(reps)]
    lo, hi = np.nanpercentile(values, [2.5, 97.5])
    return float(lo), float(hi)


def macro_f1(golds: Sequence[str], preds: Sequence[str | None], labels: Sequence[str] | None = None) -> tuple[float, dict]:
    """Macro-averaged F1 over the labels seen in gold or prediction (scikit-learn's convention), and per-label F1."""
    seen = [lab for lab in (labels or sorted(set(golds))) if lab in set(golds) | set(preds)]
    per = {}
    for lab in seen:
        tp = sum(1 for g, p in zip(golds, preds) if g == lab and p == lab)
        n_pred = sum(1 for p in preds if p == lab)
        n_gold = sum(1 for g in golds if g == lab)
        per[lab] = f1_from_counts(tp, n_pred, n_gold)[2] if (n_pred or n_gold) else 0.0
    return (sum(per.values()) / len(per) if per else float("nan")), per


def confusion_counts(golds: Sequence[str], preds: Sequence[str | None]) -> list[list]:
    """[[gold, predicted, count], ...] for every (gold, predicted) pair that occurs; no answer is '<none>'."""
    counts = Counter((g, p if p is not None else "<none>") for g, p in zip(golds, preds))
    return [[g, p, n] for (g, p), n in sorted(counts.items())]
