"""Peak RSS reported by an evalkit matrix worker against GNU time's figure for the same process.

Runs `/usr/bin/time -v python -m evalkit.worker SPEC` for each model file (shipped models and derived
levels), where SPEC is exactly what `evalkit run` gives that cell (MMLU items + micro-benchmark), and
compares the worker's own `peak_rss_bytes` (VmHWM) with time's "Maximum resident set size".

    PYTHONPATH=. python benchmarks/matrix_rss.py --data-dir /work/shared/data [--out benchmarks/results/matrix_rss.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from evalkit.backends.safety import repack_allowed
from evalkit.hostinfo import host_info
from evalkit.memory import parse_time_v
from evalkit.perf import BenchSpec
from evalkit.procs import child_env
from evalkit.runner import RunConfig, SuiteSelection, worker_spec_for
from evalkit.worker import command, write_spec

SPECS = ["smollm2-135m", "smollm2-135m@Q8_0", "gemma3-270m", "gemma3-270m@Q8_0", "gemma3-270m@Q4_0"]


def measure(spec_str: str, config: RunConfig) -> dict:
    spec = worker_spec_for(config, spec_str)
    repack_allowed(str(spec.ref.path), config.repack, config.threads or 2)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "spec.pkl"
        write_spec(spec, path)
        proc = subprocess.run(["/usr/bin/time", "-v", *command(path)], capture_output=True, text=True, env=child_env())
    if proc.returncode != 0:
        raise SystemExit(f"{spec_str}: worker failed: {proc.stderr[-800:]}")
    msgs = [json.loads(line) for line in proc.stdout.splitlines()]
    ours = msgs[-1]["peak_rss_bytes"]
    theirs = parse_time_v(proc.stderr)
    return {"model": spec_str, "file_size": spec.ref.path.stat().st_size, "worker_peak_rss": ours, "time_v_max_rss": theirs,
            "ratio": ours / theirs, "rss_baseline": msgs[0]["rss_baseline_bytes"], "items": sum(len(m["rows"]) for m in msgs if m["type"] == "items")}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--out", default="benchmarks/results/matrix_rss.json")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    config = RunConfig(models=[], suites=[SuiteSelection("mmlu", ["high_school_geography"], 10, 5)], data_dir=args.data_dir,
                       threads=args.threads, bench=BenchSpec(pp_tokens=512, tg_tokens=32, repetitions=1, ttft_runs=3))  # fmt: skip
    rows = [measure(s, config) for s in SPECS]
    print("| model file | file MB | worker peak RSS MB | /usr/bin/time -v max RSS MB | ratio |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['model']} | {r['file_size'] / 2**20:.1f} | {r['worker_peak_rss'] / 2**20:.1f} | "
              f"{r['time_v_max_rss'] / 2**20:.1f} | {r['ratio']:.4f} |")  # fmt: skip
    out = {"when": datetime.now(timezone.utc).isoformat(timespec="seconds"), "host": host_info(),
           "python": platform.python_version(), "command": " ".join(sys.argv), "rows": rows}  # fmt: skip
    Path(args.out).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
