"""Generation throughput: many sequences decoded together against one sequence at a time.

The workload is a generation suite as it will run: GSM8K test questions behind a shared
4-shot chain-of-thought prefix (train examples), greedy, up to --max-tokens each, stop at a
blank line. Both modes use the same backend object (same threads, context and cache):

* ``one``: ``generate([request])`` per question: one live sequence, one token per forward pass
  (the shared prefix is still reused between calls);
* ``batched``: ``generate(all requests)``: several live sequences, one token of each per forward
  pass, new questions admitted as others finish. How many: by default what the backend itself
  measures as fastest (``CapTuner``: 1, 2, 4, … while tokens/s rise; recorded as
  ``live_sequences`` with the rate of each cap tried), or a fixed ``--parallel N``.

``--suite reasoning`` (or another generation suite) replaces GSM8K with evalkit's own requests for
that suite: the prompts, stops, token limits and grammars ``evalkit run`` would send.

``--kv-streams S`` is an experiment, not an evalkit option: the context is created with llama.cpp's
non-unified KV cache (``kv_unified=False``, ``n_seq_max=S``), so every sequence has its own stream of
``n_ctx / S`` cells and attends only over them, instead of over every used cell of one shared cache;
the shared prefix is copied into each stream. evalkit's scheduler still counts room as if the cache
were unified, so give ``--n-ctx`` at least S times the longest prompt plus its ``max_tokens``.

Throughput = generated tokens / wall time (prompt processing included). Rounds alternate the
modes; figures are medians. Greedy outputs of the two modes are compared token for token.

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
    return [GenerateRequest(prefix, f"Question: {r['question']}\nAnswer:", max_tokens=max_tokens, stop=("\n\n",))
            for r in rows("test")[:n]]  # fmt: skip


def suite_requests(model: str, suite: str, subsets: list[str], limit: int, max_tokens: int | None):
    """The requests evalkit's generation task sends for a suite (prompts, stops, grammar), in run order."""
    from dataclasses import replace

    from _common import suite_jobs

    from evalkit.tasks import TASKS

    reqs = []
    for job in suite_jobs(model, suite, subsets, limit):
        task = TASKS[job.suite.suite.kind]
        reqs += [task.request(job, i) for i in range(len(job.items))]
    return [replace(r, max_tokens=max_tokens) for r in reqs] if max_tokens else reqs


def run_mode(backend, reqs, mode: str) -> tuple[float, int, list[list[int]]]:
    t0 = time.perf_counter()
    if mode == "one":
        results, tokens = [], []
        for r in reqs:
            results += backend.generate([r])
            tokens += backend.last_generated
    else:
        results = backend.generate(reqs)
        tokens = backend.last_generated
    seconds = time.perf_counter() - t0
    assert not any(r.error for r in results), [r.error for r in results if r.error][:1]
    return seconds, sum(r.completion_tokens for r in results), tokens


def kv_streams(streams: int) -> None:
    """Make every context created from now on use *streams* separate KV streams (see the module docstring)."""
    import llama_cpp.llama_cpp as C

    import evalkit.backends.llamacpp as backend

    backend.MAX_SEQ = streams  # sequence ids, and the bound on live sequences (streams - 1)
    create = C.llama_init_from_model

    def init_from_model(model, params):
        params.kv_unified, params.n_seq_max = False, streams
        return create(model, params)

    C.llama_init_from_model = init_from_model  # llama_cpp._internals looks it up at call time


def bench_model(model: str, args) -> dict:
    from evalkit.backends.llamacpp import LlamaCppBackend
    from evalkit.models import resolve_model

    b = LlamaCppBackend(resolve_model(model).path, threads=args.threads, n_ctx=args.n_ctx, n_parallel=args.parallel or None,
                        flash_attn=args.flash_attn)
    if args.suite:
        reqs = suite_requests(model, args.suite, args.subsets, args.n, args.suite_max_tokens)
    else:
        reqs = gsm8k_requests(args.n, args.shots, args.max_tokens)
    rates: dict[str, list[float]] = {"one": [], "batched": []}
    outputs = {}
    try:
        for _ in range(args.rounds):
            for mode in rates:
                seconds, generated, outputs[mode] = run_mode(b, reqs, mode)
                rates[mode].append(generated / seconds)
                print(f"{model} {mode}: {generated} tokens in {seconds:.1f} s = {rates[mode][-1]:.1f} tok/s", flush=True)
    finally:
        b.close()
    same = sum(1 for a, c in zip(outputs["one"], outputs["batched"]) if a == c)
    one, batched = median(rates["one"]), median(rates["batched"])
    return {"one_tok_per_s": round(one, 1), "batched_tok_per_s": round(batched, 1), "speedup": round(batched / one, 2),
            "one_all": [round(x, 1) for x in rates["one"]], "batched_all": [round(x, 1) for x in rates["batched"]],
            "identical_outputs": f"{same}/{len(reqs)}", "load_seconds": round(b.load_seconds, 2),
            "live_sequences": b.gen_tuner.best if b.gen_tuner else b.n_parallel,
            "tuner_tok_per_s": {k: round(v, 1) for k, v in b.gen_tuner.rates.items()} if b.gen_tuner else None}  # fmt: skip


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
    ap.add_argument("--n-ctx", type=int, default=8192)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--flash-attn", action="store_true", help="llama.cpp's flash attention (skips masked cells)")
    ap.add_argument("--kv-streams", type=int, default=0,
                    help="experiment: llama.cpp's non-unified KV cache with this many streams (module docstring)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    if args.kv_streams:
        kv_streams(args.kv_streams)  # once: it wraps llama.cpp's context constructor for the whole process
    result = {"settings": {k: v for k, v in vars(args).items() if k != "out"}, "host": host()}
    for model in args.models:
        result[model] = bench_model(model, args)
    write_result(args.out, result)
    print(json.dumps({k: v for k, v in result.items() if k != "host"}, indent=1))


if __name__ == "__main__":
    main()
