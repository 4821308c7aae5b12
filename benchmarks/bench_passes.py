"""One generation step, timed: B live sequences of length L, on the unified KV cache and on KV streams.

Each cell of the table is a pure decode pass (one new token for each of B sequences that
share a 96-token prompt and have each decoded L more tokens of their own), as
``llamacpp_generate`` runs it in the middle of a generation suite. ``unified`` is the
backend's own context (every sequence's token attends over every used cell, masked);
``streams`` is the per-sequence context of ``evalkit/backends/llamacpp_kv.py`` (each
sequence attends over its own stream). Tokens/s = B / median pass time over --passes
passes. This is what decides ``STREAMS_MAX`` and when generation switches to streams.

Usage:
    python benchmarks/bench_passes.py --model smollm2-135m --threads 2 \
        --out benchmarks/results/passes-smollm2.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from _common import host, write_result

PROMPT = "Solve each problem. Work through it one step at a time, then give the final number on a last line. " * 4


def time_passes(kv, prompt: list[int], live: int, grown: int, passes: int) -> float:
    """Median seconds of one pure decode pass with *live* sequences, each *grown* tokens past the prompt."""
    from evalkit.backends.llamacpp_batch import LOGITS_LAST, LOGITS_NONE, Run

    kv.reset()
    kv.hold_prefix(prompt)
    for s in range(1, live + 1):
        kv.fork(s)
    pos = len(prompt)
    if grown:
        kv.decoder.decode([Run(s, [200 + i % 50 for i in range(grown)], pos, LOGITS_NONE) for s in range(1, live + 1)])
        pos += grown
    times = []
    for _ in range(passes + 3):
        runs = [Run(s, [100 + s], pos, LOGITS_LAST) for s in range(1, live + 1)]
        t0 = time.perf_counter()
        kv.decoder.step(runs)
        times.append(time.perf_counter() - t0)
        pos += 1
    return statistics.median(times[3:])  # the first passes warm up


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--live", type=int, nargs="+", default=[1, 4, 8, 16, 32])
    ap.add_argument("--grown", type=int, nargs="+", default=[0, 200, 400], help="tokens each sequence has decoded already")
    ap.add_argument("--passes", type=int, default=20)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()

    from evalkit.backends.llamacpp import LlamaCppBackend
    from evalkit.backends.llamacpp_kv import round_cells
    from evalkit.models import resolve_model

    top = max(args.live)
    b = LlamaCppBackend(resolve_model(args.model).path, threads=args.threads, n_ctx=16384, n_parallel=top)
    prompt = b.tokenize(PROMPT)[:96]
    per_seq = round_cells(len(prompt) + max(args.grown) + args.passes + 3)
    caches = {"unified": b.kv, "streams": b.streams(top + 1, per_seq)}
    rows = []
    try:
        for live in args.live:
            for grown in args.grown:
                row = {"live": live, "cells_per_sequence": len(prompt) + grown}
                for name, kv in caches.items():
                    if name == "unified" and len(prompt) + live * (grown + args.passes + 3) > b.n_ctx:
                        continue
                    row[f"{name}_tok_per_s"] = round(live / time_passes(kv, prompt, live, grown, args.passes), 1)
                print(row, flush=True)
                rows.append(row)
    finally:
        b.close()
    result = {"settings": {k: v for k, v in vars(args).items() if k != "out"}, "host": host(), "passes": rows}
    write_result(args.out, result)
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
