"""The gate's statistics against hand-computed and published values, and its false-alarm rate."""

import math

import numpy as np
import pytest

from evalkit.gate.compare import GateSettings, decide
from evalkit.gate.stats import (
    compare_binary,
    compare_scores,
    items_needed,
    mcnemar_drop_p,
    min_p_value,
    newcombe_paired_ci,
)


def test_mcnemar_exact_one_sided_matches_the_binomial_by_hand():
    assert mcnemar_drop_p(5, 0) == pytest.approx(1 / 32)
    # P(X >= 9 | n = 10, 1/2) = (C(10,9) + C(10,10)) / 2^10
    assert mcnemar_drop_p(9, 1) == pytest.approx(11 / 1024)
    assert mcnemar_drop_p(0, 7) == pytest.approx(1.0)
    assert mcnemar_drop_p(0, 0) == 1.0
    assert mcnemar_drop_p(3, 3) == pytest.approx(sum(math.comb(6, k) for k in range(3, 7)) / 64)


def test_smallest_meaningful_sample():
    assert min_p_value(5) == 1 / 32
    assert items_needed(0.05) == 5  # 0.5**4 = 0.0625 > 0.05 >= 0.5**5
    assert items_needed(0.01) == 7
    assert items_needed(0.5) == 1


def test_newcombe_interval_matches_published_example():
    # Fagerland, Lydersen & Laake, "Statistical Analysis of Contingency Tables", ch. 8 (Cavo et al. 2012):
    # table [[59, 6], [16, 80]], difference -0.0621, 95% CI -0.1186 to -0.0046.
    low, high = newcombe_paired_ci(both=59, lost=16, gained=6, neither=80)
    assert (round(low, 4), round(high, 4)) == (-0.1186, -0.0046)


def test_compare_binary_counts_flips_each_way():
    base = [True] * 30 + [False] * 20
    cand = [True] * 20 + [False] * 10 + [True] * 5 + [False] * 15
    r = compare_binary(base, cand)
    assert (r.lost, r.gained, r.n) == (10, 5, 50)
    assert r.baseline == pytest.approx(0.6) and r.candidate == pytest.approx(0.5)
    assert r.diff == pytest.approx(-0.1)
    assert r.ci_low < r.diff < r.ci_high
    assert r.p_value == pytest.approx(mcnemar_drop_p(10, 5))


def test_identical_outcomes_give_no_drop():
    r = compare_binary([True, False] * 20, [True, False] * 20)
    assert r.p_value == 1.0 and r.diff == 0
    s = compare_scores([0.1, 0.5, 0.9] * 10, [0.1, 0.5, 0.9] * 10)
    assert s.p_value == 1.0 and s.diff == 0 and s.ci_low == s.ci_high == 0


def test_bootstrap_is_seeded_and_detects_a_clear_drop():
    rng = np.random.default_rng(3)
    base = rng.random(200)
    cand = np.clip(base - 0.08 + rng.normal(0, 0.05, 200), 0, 1)
    a = compare_scores(base, cand, seed=7)
    b = compare_scores(base, cand, seed=7)
    assert a == b
    assert a.p_value < 0.001 and a.ci_high < 0 and a.lost > a.gained
    assert a.ci_low < a.diff < a.ci_high


def test_randomization_test_on_binary_scores_agrees_with_mcnemar():
    base = [1.0] * 30 + [0.0] * 30
    cand = [1.0] * 22 + [0.0] * 8 + [1.0] * 2 + [0.0] * 28
    r = compare_scores(base, cand, resamples=20_000, seed=1)
    assert r.p_value == pytest.approx(mcnemar_drop_p(8, 2), abs=0.01)


def test_decision_needs_both_tolerance_and_significance():
    s = GateSettings(max_drop=1.0, alpha=0.05)
    big_noisy = compare_binary([True] * 10 + [False] * 10, [False] * 4 + [True] * 6 + [True] * 2 + [False] * 8)
    assert big_noisy.p_value > 0.05 and decide(big_noisy, s)[0] == "pass"
    tiny_sure = compare_binary([True] * 10 + [False] * 990, [False] * 10 + [False] * 990)  # 1.0 pp, p < 0.001
    assert tiny_sure.p_value < 0.05 and decide(tiny_sure, s)[0] == "pass"
    real = compare_binary([True] * 40 + [False] * 60, [False] * 12 + [True] * 28 + [False] * 60)
    verdict, reason = decide(real, s)
    assert verdict == "fail" and "12.0 pp" in reason


def _false_alarm_rate(n: int, reps: int, seed: int) -> float:
    """Gate failures over replications with no true difference (exchangeable per-item outcomes)."""
    rng = np.random.default_rng(seed)
    s = GateSettings()
    fails = 0
    for _ in range(reps):
        p = rng.beta(2.4, 1.6, size=n)  # item difficulties around 60% accuracy
        shared = rng.random(n) < p
        flip = rng.random(n) < 0.5
        a = np.where(flip, rng.random(n) < p, shared)
        b = np.where(flip, rng.random(n) < p, shared)
        fails += decide(compare_binary(a, b), s)[0] == "fail"
    return fails / reps


def test_false_alarm_rate_of_defaults_is_at_most_alpha():
    """A fast version of benchmarks/gate_false_alarms.py (which records 20,000 replications per setting)."""
    reps = 1500
    rate = _false_alarm_rate(200, reps, seed=11)
    # at most alpha, allowing for the Monte-Carlo error of 1500 replications (3 standard errors)
    assert rate <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / reps)
    assert rate > 0  # the test is not vacuous: noise does sometimes look like a drop


def test_continuous_false_alarms_at_most_alpha():
    rng = np.random.default_rng(5)
    s = GateSettings(resamples=2000)
    reps, fails = 300, 0
    for r in range(reps):
        level = rng.random(60)
        a = np.clip(level + rng.normal(0, 0.2, 60), 0, 1)
        b = np.clip(level + rng.normal(0, 0.2, 60), 0, 1)
        fails += decide(compare_scores(a, b, resamples=s.resamples, seed=r), s)[0] == "fail"
    assert fails / reps <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / reps)
