"""The harness's own memory beside the model's, on a full MMLU run.

Two processes, measured from outside with psutil (resident set size, sampled
every second):

1. *model only*: imports only evalkit's backend, loads the model and scores the four
   longest MMLU questions (high_school_european_history, ~3,100-token prompts), so
   weights, KV cache and compute buffers are all touched. Its peak RSS is what the
   model needs.
2. *the harness*: ``evalkit run`` itself (CLI, suite, MMLU loader, prompts, DuckDB
   store, progress) on the whole selection. Its peak RSS minus the model-only peak
   is what evalkit adds beside the model.

Usage:
    python benchmarks/bench_memory.py --model smollm2-135m --subset all \
        --data-dir /work/shared/data --out benchmarks/results/memory-full-mmlu.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024

MODEL_ONLY = r"""
import json, sys
from evalkit.backends.llamacpp import LlamaCppBackend
from evalkit.types import ChoiceRequest
path, requests, threads = sys.argv[1], json.load(open(sys.argv[2])), int(sys.argv[3])
b = LlamaCppBackend(path, threads=threads)
res = b.score_choices([ChoiceRequest(r["prefix"], r["body"], tuple(r["continuations"])) for r in requests])
assert not any(r.error for r in res), [r.error for r in res if r.error][:1]
"""


def longest_prompts(data_dir: str, subject: str = "high_school_european_history", n: int = 4) -> list[dict]:
    """The model-only process scores these: the subject with the longest MMLU prompts fills the most KV cache."""
    from evalkit.prompt import build_body, build_prefix, continuations
    from evalkit.runner import RunConfig, SuiteSelection, plan

    (p,), _ = plan(RunConfig(models=[], suites=[SuiteSelection("mmlu", [subject])], data_dir=data_dir))
    data = p.subsets[subject]
    prefix = build_prefix(p.suite, data, 5)
    bodies = sorted((build_body(p.suite, it) for it in data.items), key=len)[-n:]
    return [{"prefix": prefix, "body": b, "continuations": list(continuations(p.suite))} for b in bodies]


class Sampler(threading.Thread):
    """Samples the RSS of one process (and its children) every *interval* seconds."""

    def __init__(self, pid: int, interval: float = 1.0):
        super().__init__(daemon=True)
        self.proc, self.interval, self.samples, self._halt = psutil.Process(pid), interval, [], threading.Event()

    def run(self) -> None:
        t0 = time.perf_counter()
        while not self._halt.is_set():
            try:
                rss = self.proc.memory_info().rss + sum(c.memory_info().rss for c in self.proc.children(recursive=True))
            except psutil.Error:
                break
            self.samples.append((round(time.perf_counter() - t0, 1), rss))
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    @property
    def peak(self) -> int:
        return max((s for _, s in self.samples), default=0)


def run_measured(cmd: list[str], env: dict, log: Path, interval: float) -> tuple[int, Sampler, float]:
    t0 = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        sampler = Sampler(proc.pid, interval)
        sampler.start()
        rc = proc.wait()
    sampler.stop()
    return rc, sampler, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--subset", default="all")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data-dir", default=os.environ.get("EVALKIT_DATA_DIR", "/work/shared/data"))
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    work = Path(tempfile.mkdtemp(prefix="evalkit-bench-mem-"))

    from evalkit.models import resolve_model

    (work / "requests.json").write_text(json.dumps(longest_prompts(args.data_dir)))
    model_cmd = [sys.executable, "-c", MODEL_ONLY, str(resolve_model(args.model).path), str(work / "requests.json"), str(args.threads)]
    rc, model_only, secs = run_measured(model_cmd, env, work / "model_only.log", 0.2)
    if rc != 0:
        sys.exit(f"model-only process failed: {(work / 'model_only.log').read_text()[-2000:]}")
    cmd = [sys.executable, "-m", "evalkit", "run", "--model", args.model, "--suite", "mmlu", "--subset", args.subset,
           "--db", str(work / "run.duckdb"), "--data-dir", args.data_dir, "--threads", str(args.threads)]  # fmt: skip
    if args.limit:
        cmd += ["--limit", str(args.limit)]
    rc, harness, run_secs = run_measured(cmd, env, work / "run.log", args.interval)
    if rc != 0:
        sys.exit(f"evalkit run failed ({rc}): {(work / 'run.log').read_text()[-2000:]}")
    import duckdb

    with duckdb.connect(str(work / "run.duckdb"), read_only=True) as con:
        n_items, n_errors = con.execute("select count(*), count(error) from items").fetchone()
    result = {
        "model": args.model, "subset": args.subset, "limit": args.limit, "threads": args.threads,
        "items": n_items, "item_errors": n_errors, "run_seconds": round(run_secs, 1),
        "model_only_peak_mb": round(model_only.peak / MB, 1),
        "harness_run_peak_mb": round(harness.peak / MB, 1),
        "harness_added_mb": round((harness.peak - model_only.peak) / MB, 1),
        "rss_timeline_mb": [(t, round(r / MB, 1)) for t, r in harness.samples[:: max(1, len(harness.samples) // 200)]],
        "host": {"cpu": os.cpu_count(), "loadavg_end": os.getloadavg()},
        "command": " ".join(cmd),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k != "rss_timeline_mb"}, indent=1))


if __name__ == "__main__":
    main()
