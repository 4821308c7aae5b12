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
