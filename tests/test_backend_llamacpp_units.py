"""Pure logic of the llama.cpp backend's schedulers (no model needed)."""

from __future__ import annotations

import numpy as np

from evalkit.backends.llamacpp_batch import LOGITS_ALL, LOGITS_LAST, LOGITS_NONE, Run
from evalkit.backends.llamacpp_choice import _Prepared, _runs_of_same_prefix, _waves, log_softmax_at, shared_length
from evalkit.backends.llamacpp_sampling import TokenSampler
from evalkit.types import ChoiceRequest


def test_shared_length_stops_at_first_difference_and_leaves_a_token():
    prefix = [1, 2, 3, 4]
    assert shared_length(prefix, [[1, 2, 3, 4, 9], [1, 2, 3, 4, 8, 7]]) == 4
    assert shared_length(prefix, [[1, 2, 3, 5, 9], [1, 2, 3, 4, 8]]) == 3  # tokenizer merged across the boundary
    assert shared_length(prefix, [[1, 2, 3, 4]]) == 3  # a prompt equal to the prefix keeps its last token
    assert shared_length([], [[5, 6]]) == 0


def test_waves_respect_width_and_cache_room():
    preps = [_Prepared(i, [0] * 10 + [1] * n, [[7]]) for i, n in enumerate([5, 5, 5, 50, 5])]
    waves = _waves(preps, shared=10, n_ctx=60, width=2)
    assert [[p.index for p in w] for w in waves] == [[0, 1], [2], [3], [4]]  # 10 + 5 + 50 > 60
    assert all(10 + sum(len(p.ctx) - 10 for p in w) <= 60 for w in waves)


def test_requests_grouped_by_consecutive_prefix():
    reqs = [ChoiceRequest(p, "b", ("x",)) for p in ["a", "a", "b", "a"]]
    assert _runs_of_same_prefix(reqs) == [[0, 1], [2], [3]]


def test_run_logit_selection():
    assert [Run(1, [5, 6, 7], 0, LOGITS_LAST).wants(i) for i in range(3)] == [False, False, True]
    assert all(Run(1, [5, 6], 0, LOGITS_ALL).wants(i) for i in range(2))
    assert not any(Run(1, [5, 6], 0, LOGITS_NONE).wants(i) for i in range(2))


def test_log_softmax_at_matches_numpy():
    logits = np.array([1.0, 2.0, 3.0, -1.0], dtype=np.float32)
    expected = logits - np.log(np.exp(logits.astype(np.float64)).sum())
    assert np.allclose(log_softmax_at(logits, [0, 2, 3]), expected[[0, 2, 3]])


def test_sampler_greedy_and_seeded():
    from llama_cpp import llama_cpp as C

    logits = np.log(np.array([0.1, 0.6, 0.3], dtype=np.float32))
    assert TokenSampler(C, None, 3, 0.0, 0, None).sample(logits) == 1
    draws = [TokenSampler(C, None, 3, 1.0, seed, None).sample(logits) for seed in range(200)]
    assert draws == [TokenSampler(C, None, 3, 1.0, seed, None).sample(logits) for seed in range(200)]
    share = np.bincount(draws, minlength=3) / len(draws)
    assert abs(share[1] - 0.6) < 0.1 and abs(share[0] - 0.1) < 0.07


def _tune(rate_of_cap, limit=32, window=3):
    from evalkit.backends.llamacpp_generate import CapTuner

    tuner = CapTuner(limit, window=window)
    while not tuner.done:
        cap = tuner.cap
        for _ in range(window):  # one pass of `cap` tokens at the machine's rate for that cap
            tuner.observe(cap, cap / rate_of_cap(cap))
    return tuner


def test_cap_tuner_keeps_the_fastest_number_of_live_sequences():
    # two live sequences are slower than one (llama.cpp's few-token kernels), then batching pays up to 16
    tuner = _tune(lambda cap: {1: 75, 2: 47, 4: 60, 8: 95, 16: 115, 32: 110}[cap])
    assert tuner.best == tuner.cap == 16 and sorted(tuner.rates) == [1, 2, 4, 8, 16, 32]


def test_cap_tuner_stays_sequential_when_batching_does_not_pay():
    tuner = _tune(lambda cap: {1: 138, 2: 112, 4: 100, 8: 104, 16: 90, 32: 75}[cap])  # SmolLM2-135M, 1 CPU thread
    assert tuner.best == tuner.cap == 1 and tuner.done


def test_cap_tuner_wants_a_real_gain_from_more_sequences_and_stops_at_its_limit():
    from evalkit.backends.llamacpp_generate import CapTuner

    assert _tune(lambda cap: 100 + cap / 2, limit=8).cap == 1  # at most 4% faster: noise, not worth the KV cells
    assert _tune(lambda cap: 50.0 * cap, limit=6).rates.keys() == {1, 2, 4, 6}  # the limit itself is tried
    assert CapTuner(1).done and CapTuner(1).cap == 1


def test_cap_tuner_ends_its_search_when_the_context_cannot_hold_the_cap():
    from evalkit.backends.llamacpp_generate import CapTuner

    tuner = CapTuner(32, window=1)
    for cap, rate in ((1, 70), (2, 50), (4, 90)):
        assert tuner.cap == cap
        tuner.observe(cap, cap / rate)
    tuner.unreachable()  # 8 sequences do not fit in n_ctx
    assert tuner.done and tuner.cap == 4


def test_generation_stops_probing_caps_larger_than_the_callers_batches():
    from types import SimpleNamespace

    from evalkit.backends.llamacpp_generate import tuner_for

    backend = SimpleNamespace(adaptive_parallel=True, gen_tuner=None, n_parallel=32)
    tuner = tuner_for(backend, 32, 16)
    tuner.window = 1
    for cap, rate in ((1, 70), (2, 50), (4, 90), (8, 100), (16, 120)):
        tuner.observe(cap, cap / rate)
    assert tuner_for(backend, 32, 1) is tuner  # kept across calls; one request says nothing about batch size
    assert not tuner.done and tuner.cap == 32
    tuner_for(backend, 32, 16)  # calls of 16 requests can never fill 32 live sequences
    assert tuner.done and tuner.cap == 16


def test_long_generations_get_per_sequence_streams_within_the_cell_budget():
    from evalkit.backends.llamacpp_kv import STREAMS_MAX, stream_shape

    assert stream_shape(need=480, budget=384, requests=32, limit=32, cells_max=23301) == (33, 512)  # 32 live + the prefix's
    assert stream_shape(need=480, budget=384, requests=5, limit=32, cells_max=23301) == (6, 512)  # no more than requests
    assert stream_shape(need=480, budget=384, requests=32, limit=8, cells_max=23301) == (9, 512)  # a fixed n_parallel
    assert stream_shape(need=480, budget=384, requests=500, limit=64, cells_max=10**6)[0] == STREAMS_MAX + 1
    # the fewest waves, evenly filled: 100 requests as 4 x 25, not 3 x 32 and a last wave of 4
    assert stream_shape(need=500, budget=384, requests=100, limit=32, cells_max=10**6) == (26, 512)
    assert stream_shape(need=500, budget=384, requests=33, limit=32, cells_max=10**6) == (18, 512)
    assert stream_shape(need=130, budget=32, requests=32, limit=32, cells_max=23301) is None  # short answers: unified
    assert stream_shape(need=480, budget=384, requests=1, limit=32, cells_max=23301) is None  # nothing to separate
    assert stream_shape(need=480, budget=384, requests=16, limit=1, cells_max=23301) is None  # n_parallel=1
    seqs, per_seq = stream_shape(need=1500, budget=256, requests=32, limit=32, cells_max=8192)
    assert per_seq == 1536 and seqs * per_seq <= 8192 and seqs == 5  # long prompts: fewer streams
    assert stream_shape(need=3000, budget=256, requests=32, limit=32, cells_max=8192) is None  # not two beside the prefix


def test_live_streams_move_together_once_no_request_waits():
    """llama.cpp evaluates a run of consecutive sequence ids at a time: gaps left by finished ones are closed."""
    from collections import deque
    from types import SimpleNamespace

    from evalkit.backends.llamacpp_generate import _Scheduler

    calls = []
    kv = SimpleNamespace(streams=True, fork=lambda seq, src=0: calls.append(("copy", src, seq)),
                         drop=lambda seq: calls.append(("drop", seq)))
    s = _Scheduler.__new__(_Scheduler)
    s.kv, s.pending, s.moved = kv, deque(), 0
    s.active = [SimpleNamespace(seq=i) for i in (1, 3, 6, 7)]
    s.free = [2, 4, 5, 8]
    s._compact()
    assert sorted(a.seq for a in s.active) == [1, 2, 3, 4] and s.moved == 2
    assert calls == [("copy", 7, 2), ("drop", 7), ("copy", 6, 4), ("drop", 6)]  # the highest into the lowest gap
    assert s.free == [5, 6, 7, 8]
    calls.clear()
    s.active, s.free = [SimpleNamespace(seq=i) for i in (5, 6)], [1, 2, 3, 4, 7, 8]
    s._compact()  # consecutive already, if not from 1: nothing to copy
    assert calls == [] and [a.seq for a in s.active] == [5, 6]


def test_default_threads_counts_busy_cores_now_not_a_minute_ago(monkeypatch):
    import os

    import psutil

    from evalkit.backends import llamacpp

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(psutil, "cpu_count", lambda *a, **k: 2)

    def machine(load: float, percent: float) -> int:
        monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
        monkeypatch.setattr(psutil, "cpu_percent", lambda interval=None, **k: percent)
        return llamacpp.default_threads(sample_seconds=0.01)

    assert machine(0.0, 100.0) == 2  # idle for the last minute: a momentary spike does not count
    assert machine(1.1, 3.0) == 2  # a job just ended: the load average still says 1, the cores are free
    assert machine(1.0, 50.0) == 1  # one core kept busy by another process
    assert machine(6.0, 100.0) == 1  # oversubscribed: never fewer than one thread
    assert llamacpp.default_threads(sample_seconds=0) == 1  # load 6 without a sample: the load average decides
