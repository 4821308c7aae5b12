"""Scoring arithmetic: Wilson interval, choice probabilities, degenerate-result flags."""

import math

import pytest

from evalkit.metrics import degenerate_flags, softmax, wilson_interval


def test_wilson_interval_known_values():
    low, high = wilson_interval(3, 20)  # 15%: textbook Wilson 95% interval 5.2%–36.0%
    assert low == pytest.approx(0.0524, abs=1e-3) and high == pytest.approx(0.3604, abs=1e-3)
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == pytest.approx(1.0)


def test_softmax_over_choices_sums_to_one():
    p = softmax([-1.0, -2.0, -3.0, -4.0])
    assert math.isclose(sum(p), 1.0) and p[0] > p[1] > p[2] > p[3]


def test_all_zero_loglikelihoods_are_flagged():
    # lm-eval's gguf model against llama-cpp-python's server returns 0.0 for every choice on SmolLM2
    probs = [softmax([0.0, 0.0, 0.0, 0.0]) for _ in range(12)]
    flags = degenerate_flags(probs, ["A"] * 12, list("ABCDABCDABCD"))
    assert "all_equal" in flags and "constant_prediction" in flags


def test_nan_is_flagged_and_healthy_is_not():
    assert "nan" in degenerate_flags([[float("nan")] * 4], ["A"], ["B"])
    healthy = [softmax([-1.0, -2.0 + i % 3, -3.0, -1.5]) for i in range(12)]
    assert degenerate_flags(healthy, list("ABCABCABCABC"), list("ABCDABCDABCD")) == []
