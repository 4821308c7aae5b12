"""The worker's own peak-RSS figure against GNU time's on the same process, and its message stream."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

pytestmark = [pytest.mark.model]

TIME = "/usr/bin/time"


def _gnu_time() -> str:
    if os.path.exists(TIME):
        return TIME
    if os.environ.get("CI"):
        pytest.fail("GNU time is missing: install the 'time' package (.ci/run does)")
    pytest.skip("GNU time (/usr/bin/time) is not installed")


def test_worker_peak_rss_agrees_with_time_v_within_10_percent(tmp_path, data_dir):
    from evalkit.backends.safety import repack_allowed
    from evalkit.memory import parse_time_v
    from evalkit.perf import BenchSpec
    from evalkit.procs import child_env
    from evalkit.runner import RunConfig, SuiteSelection, worker_spec_for
    from evalkit.worker import command, write_spec

    time_bin = _gnu_time()
    config = RunConfig(models=[], suites=[SuiteSelection("mmlu", ["anatomy"], 4, 0)], data_dir=str(data_dir), threads=1,
                       n_ctx=1024, bench=BenchSpec(pp_tokens=32, tg_tokens=4, repetitions=1, ttft_runs=2))  # fmt: skip
    spec = worker_spec_for(config, "smollm2-135m")
    repack_allowed(str(spec.ref.path), "auto", 1)  # probe (a child of this process) before timing the worker
    write_spec(spec, tmp_path / "spec.pkl")
    proc = subprocess.run([time_bin, "-v", *command(tmp_path / "spec.pkl")], capture_output=True, text=True,
                          env=child_env(), timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    msgs = [json.loads(line) for line in proc.stdout.splitlines()]
    kinds = [m["type"] for m in msgs]
    assert kinds[:2] == ["hello", "loaded"] and kinds[-2:] == ["bench", "done"] and "job_done" in kinds
    assert sum(len(m["rows"]) for m in msgs if m["type"] == "items") == 4
    ours = msgs[-1]["peak_rss_bytes"]
    theirs = parse_time_v(proc.stderr)
    assert theirs is not None, proc.stderr[-2000:]
    assert abs(ours - theirs) / theirs < 0.10, (ours, theirs)
    # and it is the model's process, not a copy of this (much larger) test process's high-water mark
    size = os.path.getsize(spec.ref.path)
    assert ours > size and msgs[0]["rss_baseline_bytes"] < ours


def test_worker_reports_a_load_failure_as_an_error_message(tmp_path, data_dir):
    from evalkit.models import ModelRef
    from evalkit.procs import child_env
    from evalkit.worker import WorkerSpec, command, write_spec

    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\0" * 64)
    write_spec(WorkerSpec("broken", ModelRef("broken", "broken", bad, "local"), {"repack": "off"}), tmp_path / "s.pkl")
    proc = subprocess.run(command(tmp_path / "s.pkl"), capture_output=True, text=True, env=child_env(), timeout=300)
    msgs = [json.loads(line) for line in proc.stdout.splitlines()]
    assert proc.returncode == 1 and msgs[-1]["type"] == "error" and "broken.gguf" in msgs[-1]["message"]
