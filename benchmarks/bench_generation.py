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
  as evalkit did before it had streams;
* ``scattered`` (only with ``--modes``): as ``batched`` but finished sequences leave gaps among the
  live streams' ids (no ``_Scheduler._compact``), as evalkit did before session 6.

``--trace`` times every ``llama_decode`` of the batched modes and records, per round, the pure
generation passes by number of live sequences (count, seconds, tokens/s), the passes that also
carried prompt tokens, and the time spent outside llama_decode.

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


def run_mode(backend, groups, mode: str, passes: list | None = None) -> tuple[float, int, list[list[int]]]:
    """Run every group in *mode*; with *passes*, append (tokens, logit rows, seconds) for each llama_decode."""
    import evalkit.backends.llamacpp_batch as batch_mod
    import evalkit.backends.llamacpp_generate as gen

    t0 = time.perf_counter()
    results, tokens = [], []
    shape, compact, call = gen.stream_shape, gen._Scheduler._compact, batch_mod.BatchDecoder._call
    if mode == "unified":
        gen.stream_shape = lambda *a: None
    if mode == "scattered":
        gen._Scheduler._compact = lambda self: None
    if passes is not None:

        def timed(self, n):
            t = time.perf_counter()
            call(self, n)
            passes.append((n, int(self._out[:n].sum()), time.perf_counter() - t))

        batch_mod.BatchDecoder._call = timed
    try:
        for reqs in groups:
            for batch in ([r] for r in reqs) if mode == "one" else [reqs]:
                results += backend.generate(batch)
                tokens += backend.last_generated
    finally:
        gen.stream_shape, gen._Scheduler._compact, batch_mod.BatchDecoder._call = shape, compact, call
    seconds = time.perf_counter() - t0
    assert not any(r.error for r in results), [r.error for r in results if r.error][:1]
    return seconds, sum(r.completion_tokens for r in results), tokens


def pass_profile(passes: list, seconds: float) -> dict:
    """Where a batched run's time went: pure generation passes by live sequences, passes carrying prompts, the rest."""
    by_live: dict[int, list[float]] = {}
    for n, rows, t in passes:
        if n == rows:  # one new token per live sequence, nothing else
            by_live.setdefault(n, [0, 0.0])
            by_live[n][0] += 1
            by_live[n][1] += t
    prompt = [(n, t) for n, rows, t in passes if n != rows]
    decode = sum(t for _, _, t in passes)
    return {"generation_passes_by_live": {str(k): {"passes": c, "seconds": round(t, 2), "tok_per_s": round(k * c / t, 1)}
                                          for k, (c, t) in sorted(by_live.items())},
            "prompt_passes": {"passes": len(prompt), "tokens": sum(n for n, _ in prompt), "seconds": round(sum(t for _, t in prompt), 2)},
            "decode_seconds": round(decode, 2), "outside_decode_seconds": round(seconds - decode, 2)}  # fmt: skip


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
    outputs, tuners, profiles = {}, {}, {}
    try:
        for _ in range(args.rounds):
            for mode in rates:
                passes = [] if args.trace and mode != "one" else None
                seconds, generated, outputs[mode] = run_mode(b, groups, mode, passes)
                rates[mode].append(generated / seconds)
                print(f"{model} {mode}: {generated} tokens in {seconds:.1f} s = {rates[mode][-1]:.1f} tok/s", flush=True)
                if mode != "one":
                    tuners[mode] = (b.gen_tuner if b.last_shape["cache"] == "unified" else None, dict(b.last_shape))
                if passes is not None:
                    profiles.setdefault(mode, []).append(pass_profile(passes, seconds))
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
                     "live_sequences": t.best if t else shape["live_peak"], "streams_moved": shape["moved"],
                     "tuner_tok_per_s": {k: round(v, 1) for k, v in t.rates.items()} if t else None}  # fmt: skip
        if mode in profiles:
            out[mode]["passes"] = profiles[mode]  # one per round
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
    ap.add_argument("--modes", nargs="+", default=["one", "batched"], choices=["one", "batched", "unified", "scattered"],
                    help="'one' first: the others are compared with it")
    ap.add_argument("--trace", action="store_true", help="time every llama_decode of the batched modes (where the time goes)")
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
