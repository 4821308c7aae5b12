"""Paired statistics for regression gates: McNemar's exact test, a paired bootstrap, intervals.

Everything here compares a *baseline* and a *candidate* on the same items and
asks one question: did the candidate get worse? Tests are one-sided (a drop),
differences are ``candidate - baseline`` (negative = worse).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import binom

from evalkit.metrics import wilson_interval


@dataclass(frozen=True)
class PairedResult:
    """The comparison of one suite: means, their difference with a CI, flips and the p-value of a drop."""

    method: str  # "mcnemar_exact" | "paired_bootstrap" (CI; p from a paired randomization test)
    n: int
    baseline: float  # mean score (accuracy) of the baseline on the paired items
    candidate: float
    diff: float  # candidate - baseline
    ci_low: float
    ci_high: float
    lost: int  # items the baseline got right (scored higher on) and the candidate got wrong (lower)
    gained: int  # the other way round
    p_value: float  # one-sided: probability of a drop at least this large if nothing changed


def mcnemar_drop_p(lost: int, gained: int) -> float:
    """McNemar's exact test, one-sided for a drop.

    Under "no change" each discordant pair (an item that flipped) is equally likely to
    flip either way, so ``lost ~ Binomial(lost + gained, 1/2)``; the p-value is
    ``P(X >= lost)``.
    """
    n = lost + gained
    if n == 0:
        return 1.0
    return float(binom.sf(lost - 1, n, 0.5))


def min_p_value(n_items: int) -> float:
    """The smallest one-sided p-value any paired test here can give with n items (every item flips down)."""
    return 0.5**n_items


def items_needed(alpha: float) -> int:
    """The fewest paired items with which a drop can ever be significant at *alpha*."""
    return max(1, math.ceil(math.log(alpha) / math.log(0.5) - 1e-12))


def newcombe_paired_ci(both: int, lost: int, gained: int, neither: int, level: float = 0.95) -> tuple[float, float]:
    """CI of ``p_candidate - p_baseline`` for paired proportions (Newcombe 1998, method 10).

    Built from the Wilson intervals of both proportions and the (shrunk) phi
    correlation of the 2x2 table; good coverage even with few discordant pairs,
    unlike the Wald interval.
    """
    n = both + lost + gained + neither
    if n == 0:
        return (float("nan"), float("nan"))
    z = float(_z(level))
    p_cand, p_base = (both + gained) / n, (both + lost) / n
    l_c, u_c = wilson_interval(both + gained, n, z)
    l_b, u_b = wilson_interval(both + lost, n, z)
    phi = _newcombe_phi(both, lost, gained, neither)
    diff = p_cand - p_base
    lower = math.sqrt(max(0.0, (p_cand - l_c) ** 2 - 2 * phi * (p_cand - l_c) * (u_b - p_base) + (u_b - p_base) ** 2))
    upper = math.sqrt(max(0.0, (u_c - p_cand) ** 2 - 2 * phi * (u_c - p_cand) * (p_base - l_b) + (p_base - l_b) ** 2))
    return (max(-1.0, diff - lower), min(1.0, diff + upper))


def _newcombe_phi(both: int, lost: int, gained: int, neither: int) -> float:
    """Newcombe's estimate of the correlation of the two proportions, shrunk towards 0 by n/2."""
    n = both + lost + gained + neither
    denom = (both + lost) * (gained + neither) * (both + gained) * (lost + neither)
    if denom == 0:
        return 0.0
    cross = both * neither - lost * gained
    if cross > n / 2:
        return (cross - n / 2) / math.sqrt(denom)
    return 0.0 if cross >= 0 else cross / math.sqrt(denom)


def _z(level: float) -> float:
    from scipy.stats import norm

    return norm.ppf(0.5 + level / 2)


def compare_binary(baseline: list[bool], candidate: list[bool], level: float = 0.95) -> PairedResult:
    """Paired correct/incorrect outcomes: McNemar's exact test and Newcombe's interval."""
    if len(baseline) != len(candidate):
        raise ValueError("paired outcomes must have the same length")
    b = np.asarray(baseline, dtype=bool)
    c = np.asarray(candidate, dtype=bool)
    both, neither = int(np.sum(b & c)), int(np.sum(~b & ~c))
    lost, gained = int(np.sum(b & ~c)), int(np.sum(~b & c))
    n = len(b)
    low, high = newcombe_paired_ci(both, lost, gained, neither, level)
    return PairedResult(
        method="mcnemar_exact", n=n, baseline=(both + lost) / n if n else math.nan,
        candidate=(both + gained) / n if n else math.nan, diff=(gained - lost) / n if n else math.nan,
        ci_low=low, ci_high=high, lost=lost, gained=gained, p_value=mcnemar_drop_p(lost, gained),
    )  # fmt: skip


def compare_scores(
    baseline: list[float], candidate: list[float], level: float = 0.95, resamples: int = 10_000, seed: int = 0,
    test: str = "signflip",
) -> PairedResult:
    """Paired continuous scores (F1, …): a seeded paired bootstrap CI and a paired randomization test.

    The CI is the percentile interval of *resamples* bootstrap resamples of the
    per-item differences (items resampled with their pair intact). The p-value of a
    drop comes from *test*:

    - ``signflip`` (default): the paired randomization test. If nothing changed, the
      two scores of an item are exchangeable, so each difference is as likely to have
      either sign; p is the share of random sign patterns whose mean difference is at
      or below the observed one. It is exact up to Monte-Carlo error and never fires
      more often than alpha; for 0/1 scores it is McNemar's test.
    - ``shift``: the plain bootstrap test (resampled ``mean* - mean <= mean``).
    - ``bootstrap_t``: the studentized bootstrap test.

    The bootstrap tests fire more often than alpha on small or skewed samples
    (benchmarks/gate_false_alarms.py measures all three), so they are kept for comparison only.
    """
    b = np.asarray(baseline, dtype=float)
    c = np.asarray(candidate, dtype=float)
    if b.shape != c.shape:
        raise ValueError("paired scores must have the same length")
    d = c - b
    n = len(d)
    lost, gained = int(np.sum(d < 0)), int(np.sum(d > 0))
    mean = float(d.mean()) if n else math.nan
    if n == 0 or np.all(d == d[0]):
        p = 1.0 if n == 0 or d[0] >= 0 else min_p_value(n)
        return PairedResult("paired_bootstrap", n, _mean(b), _mean(c), mean, mean, mean, lost, gained, p)
    rng = np.random.default_rng(seed)
    means, sds = resample_stats(d, resamples, rng)
    tail = (1 - level) / 2
    ci_low, ci_high = (float(x) for x in np.quantile(means, [tail, 1 - tail]))
    if test == "signflip":
        p = signflip_p(d, resamples, rng)
    else:
        p = bootstrap_p(d, means, sds, test)
    return PairedResult("paired_bootstrap", n, _mean(b), _mean(c), mean, ci_low, ci_high, lost, gained, p)


def _mean(x: np.ndarray) -> float:
    return float(x.mean()) if len(x) else math.nan


def _chunks(n: int, total: int):
    """Row ranges so that a (rows x n) array holds about 4M values."""
    step = max(1, 4_000_000 // max(n, 1))
    for lo in range(0, total, step):
        yield min(step, total - lo)


def resample_stats(d: np.ndarray, resamples: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of *resamples* bootstrap resamples of *d*."""
    n = len(d)
    means, sds = [], []
    for rows in _chunks(n, resamples):
        boot = d[rng.integers(0, n, size=(rows, n))]
        means.append(boot.mean(axis=1))
        sds.append(boot.std(axis=1, ddof=1) if n > 1 else np.zeros(rows))
    return np.concatenate(means), np.concatenate(sds)


def signflip_p(d: np.ndarray, resamples: int, rng: np.random.Generator) -> float:
    """One-sided paired randomization test of a drop: ``(1 + #{mean(s * d) <= mean(d)}) / (1 + resamples)``.

    Counting the observed pattern makes the Monte-Carlo p-value valid (never below the
    true one in expectation); it is floored at ``min_p_value(n)``, the exact minimum.
    """
    n = len(d)
    total = d.sum()
    count = 0
    for rows in _chunks(n, resamples):
        signs = rng.integers(0, 2, size=(rows, n), dtype=np.int8) * 2 - 1
        count += int(np.sum(signs @ d <= total + 1e-12 * max(1.0, abs(total))))
    return float(max((1 + count) / (1 + resamples), min_p_value(n)))


def bootstrap_p(d: np.ndarray, means: np.ndarray, sds: np.ndarray, method: str) -> float:
    """One-sided bootstrap p-value for "mean difference >= 0" against a drop (for comparison only).

    ``shift``: share of resamples with ``mean* - mean <= mean``. ``bootstrap_t``: share with
    ``(mean* - mean) / se* <= mean / se`` (resamples with no spread count as "no drop").
    """
    n = len(d)
    mean = d.mean()
    if method == "shift":
        count = int(np.sum(means - mean <= mean))
    elif method == "bootstrap_t":
        se = d.std(ddof=1) / math.sqrt(n)
        if se == 0:
            return 1.0
        ok = sds > 0
        t_star = (means[ok] - mean) / (sds[ok] / math.sqrt(n))
        count = int(np.sum(t_star <= mean / se))
    else:
        raise ValueError(f"unknown test {method!r}: use signflip, shift or bootstrap_t")
    return float(max((1 + count) / (1 + len(means)), min_p_value(n)))
