"""Helpers shared by the speed benchmarks: MMLU jobs through evalkit's own task layer, medians, host facts."""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATA_DIR = os.environ.get("EVALKIT_DATA_DIR", "/work/shared/data")
# What the issue prescribes for SmolLM2 behind llama-cpp-python's server: without a BOS token every
# log-likelihood lm-eval reads back is 0.0. evalkit's "bos" mode loads the model with the same overrides.
BOS_OVERRIDES = {"smollm2-135m": {"tokenizer.ggml.add_bos_token": True, "tokenizer.ggml.bos_token_id": 0}}


class Holder:
    """What the tasks expect from the runner's LazyBackend: ``get()``."""

    def __init__(self, backend):
        self.backend = backend

    def get(self):
        return self.backend


def mmlu_jobs(model: str, subjects: list[str], limit: int | None, shots: int = 5, data_dir: str = DATA_DIR):
    """SubsetJobs exactly as ``evalkit run`` builds them (prompts, keys), one per subject."""
    return suite_jobs(model, "mmlu", subjects, limit, shots, data_dir)


def suite_jobs(model: str, suite: str, subsets: list[str], limit: int | None, shots: int | None = None,
               data_dir: str = DATA_DIR):  # fmt: skip
    """SubsetJobs of any suite exactly as ``evalkit run`` builds them, one per subset."""
    from evalkit.models import resolve_model
    from evalkit.runner import RunConfig, SuiteSelection, eval_key, plan
    from evalkit.tasks import SubsetJob

    (p,), _ = plan(RunConfig(models=[model], suites=[SuiteSelection(suite, subsets, limit=limit, shots=shots)], data_dir=data_dir))
    ref = resolve_model(model)
    return [SubsetJob.build(ref, "bench", p.suite, data, p.shots, {"backend": "llamacpp"}, eval_key) for data in p.subsets.values()]


def evaluate_mmlu(backend, model: str, subjects: list[str], limit: int | None, data_dir: str = DATA_DIR):
    """Build the prompts and evaluate them through evalkit's choice task (the harness path minus DuckDB).

    Returns (seconds, rows) where rows are the task's ItemRows in order.
    """
    from evalkit.tasks import TASKS

    t0 = time.perf_counter()
    rows = []
    for job in mmlu_jobs(model, subjects, limit, data_dir=data_dir):
        for batch in TASKS["choice"].evaluate(job, Holder(backend), list(range(len(job.items)))):
            rows.extend(batch)
    return time.perf_counter() - t0, rows


def median(xs) -> float:
    return float(statistics.median(xs))


def host() -> dict:
    from evalkit.hostinfo import host_info

    info = host_info()
    info["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    return info


def write_result(path: Path, result: dict) -> None:
    result = {"recorded": datetime.now(timezone.utc).isoformat(timespec="seconds"), "argv": sys.argv, **result}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1, default=str))
