"""Generation throughput: many sequences decoded together against one sequence at a time.

The workload is a generation suite as it will run: GSM8K test questions behind a shared
4-shot chain-of-thought prefix (train examples), greedy, up to --max-tokens each, stop at a
blank line. All modes use the same backend object (same threads, context and weights):

* ``one``: ``generate([request])`` per question: one live sequence, one token per forward pass
  (the shared prefix is still reused between calls);
* ``batched``: what ``evalkit run`` does: ``generate(requests)`` with each subset's requests in one
  call: several live sequences, one token of each per forward pass, new requests admitted as
  others finish; long generations on per-sequence KV streams (``evalkit/backends/llamacpp_kv.py``).
  How many live sequences: on streams, as many as 512 MiB of KV streams hold (up to 32), spread
  evenly over the fewest waves; on the unified cache, what the backend itself measures as fastest
  (``CapTuner``: 1, 2, 4, …, recorded with the rate of each cap tried); or a fixed ``--parallel N``.
  Recorded as ``kv_cache``, ``live_peak`` (the most live at once) and ``live_sequences``;
* ``unified`` (only with ``--modes``): as ``batched`` but every sequence on the one unified KV cache,
  as evalkit did before it had streams.

``--suite reasoning`` (or another generation suite) replaces GSM8K with evalkit's own requests for
that suite: the prompts, stops, token limits and grammars ``evalkit run`` would send, one call per
subset.

Throughput = generated tokens / wall time (prompt processing included). Rounds alternate the
modes; figures are medians. Greedy outputs are compared token for token with ``one``.

Usage:
    python benchmarks/bench_generation.py --models smollm2-135m gemma3-270m \
        --out benchmarks/results/generation.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from _common import DATA_DIR, host, median, write_result


def gsm8k_requests(n: int, shots: int, max_tokens: int):
    from evalkit.types import GenerateRequest

    def rows(split):
        with open(Path(DATA_DIR) / "gsm8k" / f"{split}.jsonl", encoding="utf-8") as fh:
            return [json.loads(line) for line in fh]

    prefix = "".join(f"Question: {r['question']}\nAnswer: {r['answer']}\n\n" for r in rows("train")[:shots])
    return [[GenerateRequest(prefix, f"Question: {r['question']}\nAnswer:", max_tokens=max_tokens, stop=("\n\n",))
             for r in rows("test")[:n]]]  # fmt: skip


def suite_requests(model: str, suite: str, subsets: list[str], limit: int, max_tokens: int | None):
    """The requests evalkit's generation task sends for a suite (prompts, stops, grammar): one list per subset."""
    from dataclasses import replace

    from _common import suite_jobs

    from evalkit.tasks import TASKS

    groups = []
    for job in suite_jobs(model, suite, subsets, limit):
        task = TASKS[job.suite.suite.kind]
        reqs = [task.request(job, i) for i in range(len(job.items))]
        groups.append([replace(r, max_tokens=max_tokens) for r in reqs] if max_tokens else reqs)
    return groups


def run_mode(backend, groups, mode: str) -> tuple[float, int, list[list[int]]]:
    import evalkit.backends.llamacpp_generate as gen

    t0 = time.perf_counter()
    results, tokens = [], []
    shape = gen.stream_shape
    if mode == "unified":
        gen.stream_shape = lambda *a: None
    try:
        for reqs in groups:
            for batch in ([r] for r in reqs) if mode == "one" else [reqs]:
                results += backend.generate(batch)
                tokens += backend.last_generated
    finally:
        gen.stream_shape = shape
    seconds = time.perf_counter() - t0
    assert not any(r.error for r in results), [r.error for r in results if r.error][:1]
    return seconds, sum(r.completion_tokens for r in results), tokens


def bench_model(model: str, args) -> dict:
    from evalkit.backends.llamacpp import LlamaCppBackend
    from evalkit.models import resolve_model

    b = LlamaCppBackend(resolve_model(model).path, threads=args.threads, n_ctx=args.n_ctx, n_parallel=args.parallel or None,
                        flash_attn=args.flash_attn)
    if args.suite:
        groups = suite_requests(model, args.suite, args.subsets, args.n, args.suite_max_tokens)
    else:
        groups = gsm8k_requests(args.n, args.shots, args.max_tokens)
    rates: dict[str, list[float]] = {m: [] for m in args.modes}
    outputs, tuners = {}, {}
    try:
        for _ in range(args.rounds):
            for mode in rates:
                seconds, generated, outputs[mode] = run_mode(b, groups, mode)
                rates[mode].append(generated / seconds)
                print(f"{model} {mode}: {generated} tokens in {seconds:.1f} s = {rates[mode][-1]:.1f} tok/s", flush=True)
                if mode != "one":
                    tuners[mode] = (b.gen_tuner if b.last_shape["cache"] == "unified" else None, dict(b.last_shape))
    finally:
        b.close()
    n = sum(len(g) for g in groups)
    one = median(rates["one"])
    out = {"requests": n, "calls": len(groups), "load_seconds": round(b.load_seconds, 2), "one_tok_per_s": round(one, 1),
           "one_all": [round(x, 1) for x in rates["one"]]}  # fmt: skip
    for mode in args.modes[1:]:
        rate = median(rates[mode])
        same = sum(1 for a, c in zip(outputs["one"], outputs[mode]) if a == c)
        t, shape = tuners[mode]
        out[mode] = {"tok_per_s": round(rate, 1), "speedup": round(rate / one, 2), "all": [round(x, 1) for x in rates[mode]],
                     "identical_outputs": f"{same}/{n}", "kv_cache": shape["cache"], "live_peak": shape["live_peak"],
                     "live_sequences": t.best if t else shape["live_peak"],
                     "tuner_tok_per_s": {k: round(v, 1) for k, v in t.rates.items()} if t else None}  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["smollm2-135m", "gemma3-270m"])
    ap.add_argument("--n", type=int, default=32, help="questions (with --suite: items per subset)")
    ap.add_argument("--suite", help="an evalkit generation suite instead of GSM8K 4-shot, e.g. reasoning")
    ap.add_argument("--subsets", nargs="+", default=[], help="with --suite: its subsets (default: the suite's)")
    ap.add_argument("--suite-max-tokens", type=int, help="with --suite: override the suite's max_tokens")
    ap.add_argument("--shots", type=int, default=4)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--parallel", type=int, default=0,
                    help="live sequences in batched mode; 0 (default): evalkit's own choice, measured by the backend")
    ap.add_argument("--n-ctx", type=int, default=4096, help="as evalkit run (its default too)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--flash-attn", action="store_true", help="llama.cpp's flash attention (skips masked cells)")
    ap.add_argument("--modes", nargs="+", default=["one", "batched"], choices=["one", "batched", "unified"],
                    help="'one' first: the others are compared with it")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    if args.modes[0] != "one" or len(args.modes) < 2:
        ap.error("--modes: start with 'one' (the baseline) and name at least one batched mode")
    result = {"settings": {k: v for k, v in vars(args).items() if k != "out"}, "host": host()}
    for model in args.models:
        result[model] = bench_model(model, args)
    write_result(args.out, result)
    print(json.dumps({k: v for k, v in result.items() if k != "host"}, indent=1))


if __name__ == "__main__":
    main()
