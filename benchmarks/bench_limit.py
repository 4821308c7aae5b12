"""evalkit's MMLU evaluation time against the physical minimum, measured side by side in one process.

Physical minimum = (tokens that must be processed at least once) / (raw prompt-processing
rate of a 512-token batch). The tokens that must be processed at least once are the
nodes of the token trie of all prompts: every distinct token prefix once (the few-shot
prefix of a subject once, then what is new in each question). The 512-token rate is
measured the way llama-bench's pp512 does it: one 512-token batch of real MMLU text
into an empty cache, with the same backend, threads and settings. Rounds alternate
rate / evaluation / rate; the ratio uses medians. Model load is timed separately.

The evaluation is evalkit's own path: suite, local MMLU loader, prompt rendering,
the choice task and the backend (everything ``evalkit run`` does except DuckDB writes).

Usage:
    python benchmarks/bench_limit.py --model smollm2-135m \
        --subjects high_school_geography world_religions --limit 30 --rounds 3 \
        --out benchmarks/results/limit-smollm2.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from _common import evaluate_mmlu, host, median, mmlu_jobs, write_result


def trie_nodes(sequences) -> int:
    """Distinct non-empty prefixes over all token sequences."""
    root: dict = {}
    count = 0
    for seq in sequences:
        node = root
        for tok in seq:
            if tok not in node:
                node[tok] = {}
                count += 1
            node = node[tok]
    return count


def pp512(backend, tokens: list[int]) -> float:
    from evalkit.backends.llamacpp_batch import Run

    backend.reset()
    t0 = time.perf_counter()
    backend._decoder.decode([Run(0, tokens[:512], 0)])
    rate = 512 / (time.perf_counter() - t0)
    backend.reset()
    return rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--subjects", nargs="+", default=["high_school_geography", "world_religions"])
    ap.add_argument("--limit", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    from evalkit.backends.llamacpp import LlamaCppBackend
    from evalkit.models import resolve_model

    path = resolve_model(args.model).path
    loads = []
    for _ in range(3):
        b = LlamaCppBackend(path, threads=args.threads)
        loads.append(b.load_seconds)
        b.close()
    backends = {"default": LlamaCppBackend(path, threads=args.threads),
                "batch_questions": LlamaCppBackend(path, threads=args.threads, batch_questions=True)}  # fmt: skip
    some = backends["default"]
    jobs = mmlu_jobs(args.model, args.subjects, args.limit)
    prompts = [some.tokenize(j.prefix + body) for j in jobs for body in j.bodies]
    text_tokens = [t for p in prompts for t in p[1:]]
    must = trie_nodes(prompts)
    rates, evals = [], {m: [] for m in backends}
    tokens = {}
    for _ in range(args.rounds):
        for mode, b in backends.items():
            rates.append(pp512(some, text_tokens))
            before = b.tokens_decoded
            seconds, rows = evaluate_mmlu(b, args.model, args.subjects, args.limit)
            assert not any(r.error for r in rows), [r.error for r in rows if r.error][:1]
            evals[mode].append(seconds)
            tokens[mode] = b.tokens_decoded - before
            b.reset()  # the next round starts cold: the prefix is processed again
            print(f"{mode}: {seconds:.2f} s, {tokens[mode]} tokens; pp512 {rates[-1]:.1f} tok/s", flush=True)
    rates.append(pp512(some, text_tokens))
    rate = median(rates)
    minimum = must / rate
    result = {"model": args.model, "subjects": args.subjects, "questions": len(prompts), "threads": args.threads,
              "host": host(), "load_seconds_median": round(median(loads), 3),
              "pp512_tokens_per_s_median": round(rate, 1), "pp512_all": [round(r, 1) for r in rates],
              "tokens_to_process_at_least_once": must, "physical_minimum_seconds": round(minimum, 2)}  # fmt: skip
    for mode in backends:
        result[mode] = {"eval_seconds_median": round(median(evals[mode]), 2), "eval_seconds_all": [round(x, 2) for x in evals[mode]],
                        "tokens_decoded": tokens[mode], "x_physical_minimum": round(median(evals[mode]) / minimum, 3),
                        "questions_per_s": round(len(prompts) / median(evals[mode]), 2)}  # fmt: skip
    write_result(args.out, result)
    print(json.dumps({k: v for k, v in result.items() if k != "host"}, indent=1))


if __name__ == "__main__":
    main()
