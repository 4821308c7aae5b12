"""The fast paths of the llama.cpp backend, on real models and real MMLU questions.

Batched and one-at-a-time decoding are compared for equal predictions. llama.cpp's
CPU kernels are not bit-identical across batch shapes (a row's attention sums
depend on where its cells lie in the KV cache; one-token passes use other matmul
kernels), so where the two differ, the test requires the difference to be a
numerical near-tie of the reference itself: nothing else is tolerated.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from evalkit.backends.llamacpp import LlamaCppBackend
from evalkit.backends.llamacpp_batch import LOGITS_ALL, Run
from evalkit.backends.llamacpp_choice import shared_length
from evalkit.backends.llamacpp_kv import STREAM_KV_BYTES, STREAM_MIN_TOKENS
from evalkit.prompt import build_body, build_prefix, continuations
from evalkit.runner import RunConfig, SuiteSelection, plan
from evalkit.types import ChoiceRequest, GenerateRequest

pytestmark = pytest.mark.model

NEAR_TIE = 0.25  # log-probability margin under which two choices count as tied (choice tests)
NEAR_TIE_LOGIT = 1.5  # logit margin under which two next tokens count as tied (generation tests)
PER = 3  # MMLU questions per subject (two subjects)


def _mmlu(data_dir, subjects, limit, shots=5):
    config = RunConfig(models=[], suites=[SuiteSelection("mmlu", subjects, limit=limit, shots=shots)], data_dir=str(data_dir))
    (p,), _ = plan(config)
    out = []
    for data in p.subsets.values():
        prefix = build_prefix(p.suite, data, shots)
        out += [(prefix, build_body(p.suite, it), it) for it in data.items]
    return p.suite, out


@pytest.fixture(scope="module")
def letter_requests(data_dir):
    suite, rows = _mmlu(data_dir, ["high_school_geography", "world_religions"], PER)
    return [ChoiceRequest(prefix, body, continuations(suite)) for prefix, body, _ in rows]


@pytest.fixture(scope="module")
def text_requests(data_dir):
    """The answer texts as continuations: several tokens each, different lengths."""
    _, rows = _mmlu(data_dir, ["high_school_geography"], 2, shots=1)
    return [ChoiceRequest(prefix, body, tuple(" " + c for c in item.fields["choices"])) for prefix, body, item in rows]


@pytest.fixture(scope="module")
def reference(smollm2_path):
    backend = LlamaCppBackend(smollm2_path, n_parallel=1, threads=1, repack="off")
    yield backend
    backend.close()


def _assert_same_choices(ref_results, results):
    checked = 0
    for ref, res in zip(ref_results, results):
        assert ref.error is None and res.error is None
        assert all(math.isfinite(x) for x in res.logprobs)
        order = np.argsort(ref.logprobs)[::-1]
        margin = ref.logprobs[order[0]] - ref.logprobs[order[1]]
        if int(np.argmax(res.logprobs)) != int(order[0]):
            assert margin < NEAR_TIE, f"prediction changed although the reference margin is {margin:.3f}"
        else:
            checked += margin >= NEAR_TIE
        assert np.max(np.abs(np.array(ref.logprobs) - np.array(res.logprobs))) < 1.0
    assert checked >= 1  # at least one clear-cut question was compared


def _lcp(a, b):
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def test_prefix_is_decoded_once_per_subject(reference, letter_requests):
    """Token accounting: the few-shot prefix once, then only what is new in each question."""
    b = reference
    b.reset()
    b.tokens_decoded = 0
    results = b.score_choices(letter_requests[:2]) + b.score_choices(letter_requests[2:])
    ctxs = [b.tokenize(r.prefix + r.body) for r in letter_requests]
    expected = len(ctxs[0]) + sum(len(c) - _lcp(c, prev) for prev, c in zip(ctxs, ctxs[1:]))
    assert b.tokens_decoded == expected
    assert sum(r.new_tokens for r in results) == expected
    # a subject's second question decodes far less than its prefix
    prefix_len = len(b.tokenize(letter_requests[1].prefix))
    assert results[1].new_tokens < prefix_len / 2 and results[PER + 1].new_tokens < prefix_len / 2
    # and never more than prefix once + each question's own suffix
    upper = 0
    for i in (0, PER):
        group = ctxs[i : i + PER]
        shared = shared_length(b.tokenize(letter_requests[i].prefix), group)
        upper += shared + sum(len(c) - shared for c in group)
    assert b.tokens_decoded <= upper


def test_batched_questions_match_one_at_a_time(smollm2_path, reference, letter_requests):
    batched = LlamaCppBackend(smollm2_path, n_parallel=2, batch_questions=True, threads=1, repack="off")
    try:
        results = batched.score_choices(letter_requests)
        _assert_same_choices(reference.score_choices(letter_requests), results)
        # per subject: its prefix once (less what it shares with the previous subject's), then each suffix
        expected, cached = 0, []
        for i in (0, PER):
            ctxs = [batched.tokenize(r.prefix + r.body) for r in letter_requests[i : i + PER]]
            shared = ctxs[0][: shared_length(batched.tokenize(letter_requests[i].prefix), ctxs)]
            expected += len(shared) - _lcp(shared, cached) + sum(len(c) - len(shared) for c in ctxs)
            cached = shared
        assert batched.tokens_decoded == expected
    finally:
        batched.close()


@pytest.mark.parametrize("model", ["smollm2", "gemma"])
def test_multi_token_batch_on_both_models(model, request, text_requests):
    """Multi-token continuations decoded as parallel sequences, repacking guard in auto mode."""
    path = request.getfixturevalue(f"{model}_path")
    ref = LlamaCppBackend(path, n_parallel=1, threads=1, repack="off")
    fast = LlamaCppBackend(path, batch_questions=True, threads=1, repack="auto")
    try:
        assert all(len(ref.continuation_tokens(r.prefix + r.body, ref.tokenize(r.prefix + r.body), c)) > 1
                   for r in text_requests for c in r.continuations[:1])  # fmt: skip
        _assert_same_choices(ref.score_choices(text_requests), fast.score_choices(text_requests))
    finally:
        ref.close()
        fast.close()


PROMPTS = ["The capital of France is", "def add(a, b):\n", "Once upon a time, a small robot", "1, 2, 3, 4, 5,"]


def _next_logits(backend, tokens):
    backend.reset()
    return backend._decoder.decode([Run(1, tokens, 0, LOGITS_ALL)])[0]


def _assert_same_generations(reference, reqs, batched):
    one = []
    for r in reqs:
        one.append((reference.generate([r])[0], reference.last_generated[0]))
    results = batched.generate(reqs)
    for r, res, toks, (ref_res, ref_toks) in zip(reqs, results, batched.last_generated, one):
        assert res.error is None and res.finish_reason in ("stop", "length")
        if toks == ref_toks:
            assert res.text == ref_res.text
            continue
        k = _lcp(toks, ref_toks)  # first step where they differ: it must be a near-tie of the model
        prompt = reference.tokenize(r.body)
        logits = _next_logits(reference, prompt + ref_toks[:k] if k else prompt)[-1]
        gap = abs(float(logits[ref_toks[k]]) - float(logits[toks[k]])) if k < min(len(toks), len(ref_toks)) else 0.0
        assert gap < NEAR_TIE_LOGIT, f"outputs diverge at token {k} although the logit gap is {gap:.2f}"
    return results


def test_batched_greedy_generation_matches_one_at_a_time(smollm2_path, reference):
    reqs = [GenerateRequest("", p, max_tokens=16, stop=("\n\n",)) for p in PROMPTS]
    batched = LlamaCppBackend(smollm2_path, n_parallel=4, threads=1, repack="off")
    try:
        _assert_same_generations(reference, reqs, batched)
        assert batched._streams is None  # short answers stay on the unified cache
    finally:
        batched.close()


@pytest.mark.parametrize("model", ["smollm2", "gemma"])
def test_long_generations_on_per_sequence_streams_match_one_at_a_time(model, request):
    """max_tokens >= STREAM_MIN_TOKENS: the sequences decode on a second context with one KV stream each
    (Gemma 3's cache is two caches, global and sliding-window, each with its streams)."""
    path = request.getfixturevalue(f"{model}_path")
    reqs = [GenerateRequest("Continue the text.\n", p, max_tokens=STREAM_MIN_TOKENS) for p in PROMPTS[:3]]
    reference = LlamaCppBackend(path, n_parallel=1, threads=1, repack="off")
    batched = LlamaCppBackend(path, n_parallel=len(reqs), threads=1, repack="off")
    try:
        results = _assert_same_generations(reference, reqs, batched)
        kv = batched._streams
        assert kv is not None and kv.streams and kv.seqs == len(reqs) + 1 and kv.per_seq >= STREAM_MIN_TOKENS
        assert sum(r.completion_tokens for r in results) > len(reqs) * 32  # long enough for the streams to matter
        again = batched.generate(reqs)  # the streams context is kept, and a second call starts clean
        assert batched._streams is kv and [r.text for r in again] == [r.text for r in results]
    finally:
        reference.close()
        batched.close()


@pytest.mark.parametrize("model", ["smollm2", "gemma"])
def test_streams_close_the_gaps_early_finishers_leave_and_go_on_unchanged(model, request):
    """The second and third requests finish first and nothing waits: the fourth sequence's stream (both of
    Gemma 3's caches) is copied into the gap, and it goes on decoding there as it would have in its own."""
    path = request.getfixturevalue(f"{model}_path")
    limits = (STREAM_MIN_TOKENS, 3, 6, STREAM_MIN_TOKENS)
    reqs = [GenerateRequest("Continue the text.\n", p, max_tokens=k) for p, k in zip(PROMPTS, limits)]
    reference = LlamaCppBackend(path, n_parallel=1, threads=1, repack="off")
    batched = LlamaCppBackend(path, n_parallel=len(reqs), threads=1, repack="off")
    try:
        results = _assert_same_generations(reference, reqs, batched)
        assert batched.last_shape["cache"] == "streams" and batched.last_shape["moved"] >= 1
        assert results[3].completion_tokens > 32  # it kept decoding long after the move
    finally:
        reference.close()
        batched.close()


@pytest.mark.parametrize("model", ["smollm2", "gemma"])
def test_kv_cell_bytes_match_llama_cpps_own_state_size(model, request):
    """The streams' memory budget is counted in these bytes: a sequence's saved state must grow by them per token."""
    b = LlamaCppBackend(request.getfixturevalue(f"{model}_path"), threads=1, repack="off")
    try:
        tokens = b.tokenize("The quick brown fox jumps over the lazy dog. " * 40)
        sizes = []
        for n in (100, 300):
            b.kv.reset()
            b.kv.hold_prefix(tokens[:n])
            sizes.append(b._C.llama_state_seq_get_size(b.kv.ctx, 0))
        per_token = (sizes[1] - sizes[0]) / 200
        assert b.kv_cell_bytes <= per_token < b.kv_cell_bytes * 1.01  # K and V; the state adds a position and a sequence id
        assert b.stream_cells_max == max(b.n_ctx, STREAM_KV_BYTES // b.kv_cell_bytes)
    finally:
        b.close()


def test_results_come_back_as_each_generation_finishes(reference):
    reqs = [GenerateRequest("", "Once upon a time,", max_tokens=STREAM_MIN_TOKENS),
            GenerateRequest("", "Count: 1, 2, 3,", max_tokens=3)]  # fmt: skip
    fast = LlamaCppBackend(reference.model_path, n_parallel=2, threads=1, repack="off")
    try:
        order = [(i, res.completion_tokens) for i, res in fast.generate_iter(reqs)]
    finally:
        fast.close()
    assert [i for i, _ in order] == [1, 0] and order[0][1] == 3 and order[1][1] > 3


def test_a_caller_that_stops_early_leaves_a_clean_cache(reference):
    """Abandoning generate_iter mid-call (the store failed, an interrupt) drops the live sequences,
    so the next call, on the unified cache here, sees no stale cells of theirs."""
    reqs = [GenerateRequest("", p, max_tokens=16) for p in PROMPTS]
    fast = LlamaCppBackend(reference.model_path, n_parallel=4, threads=1, repack="off")
    try:
        clean = [r.text for r in fast.generate(reqs)]
        it = fast.generate_iter([GenerateRequest("", "Count: 1, 2,", max_tokens=1)] + reqs)
        assert next(it)[0] == 0  # the one-token request finishes after the first pass; three others are live
        it.close()
        assert [r.text for r in fast.generate(reqs)] == clean
    finally:
        fast.close()


def test_stop_conditions_per_sequence(reference):
    reqs = [
        GenerateRequest("", "Count: 1, 2, 3,", max_tokens=40, stop=(" 6",)),
        GenerateRequest("", "Count: 1, 2, 3,", max_tokens=5),
        GenerateRequest("", "Write a word:", max_tokens=0),
    ]
    fast = LlamaCppBackend(reference.model_path, n_parallel=3, threads=1, repack="off")
    try:
        stopped, limited, empty = fast.generate(reqs)
    finally:
        fast.close()
    assert stopped.finish_reason == "stop" and " 6" not in stopped.text and " 5" in stopped.text
    assert limited.finish_reason == "length" and limited.completion_tokens == 5
    assert empty.text == "" and empty.completion_tokens == 0


def test_seeded_sampling_is_reproducible(reference):
    req = GenerateRequest("", "A short poem about the sea:", max_tokens=12, temperature=0.9, seed=7)
    a = reference.generate([req])[0].text
    b = reference.generate([req])[0].text
    other = reference.generate([GenerateRequest("", req.body, max_tokens=12, temperature=0.9, seed=8)])[0].text
    assert a == b and a.strip()
    assert other != a
