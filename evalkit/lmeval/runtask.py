"""``evalkit run --lm-eval-task TASK``: an lm-eval task through an evalkit backend, items stored in DuckDB.

lm-eval builds the requests and computes the metrics; evalkit's backend answers them
(:class:`~evalkit.lmeval.model.EvalkitLM`); every sample becomes an evalkit item (see
:mod:`evalkit.lmeval.samples`), with the latency and tokens the backend measured. lm-eval
evaluates a task as a whole, so items are stored when its evaluation ends (an interrupted
task is evaluated again from the start).
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from evalkit import __version__
from evalkit.errors import BackendUnavailable, EvalkitError, SuiteNotFound, did_you_mean
from evalkit.hostinfo import host_info


@dataclass
class LmEvalRun:
    models: list[str]
    tasks: list[str]
    include_path: str | None = None
    limit: int | None = None
    shots: int | None = None
    db: str | Path = "results/evalkit.duckdb"
    threads: int | None = None
    n_ctx: int = 4096
    repack: str = "auto"
    force: bool = False
    seed: int = 0
    command: str = ""


def _task_manager(cfg: LmEvalRun):
    try:
        from lm_eval.tasks import TaskManager
    except ImportError:
        raise BackendUnavailable("--lm-eval-task needs lm-evaluation-harness: pip install 'lm-eval>=0.4.13'.") from None
    manager = TaskManager(include_path=cfg.include_path)
    known = set(manager.all_tasks)
    for task in cfg.tasks:
        if task not in known:
            raise SuiteNotFound(did_you_mean(task, known, "lm-eval task") + ". Pass --lm-eval-include DIR for your own task files.")
    return manager


def evaluate_model(cfg: LmEvalRun, spec: str, manager) -> tuple[dict, object]:
    """Run lm-eval's evaluator on one model; return (results with samples, the EvalkitLM)."""
    from lm_eval import simple_evaluate

    from evalkit.lmeval.model import EvalkitLM

    lm = EvalkitLM(model=spec, n_ctx=cfg.n_ctx, threads=cfg.threads, repack=cfg.repack)
    try:
        results = simple_evaluate(
            model=lm, tasks=list(cfg.tasks), num_fewshot=cfg.shots, limit=cfg.limit, log_samples=True,
            task_manager=manager, bootstrap_iters=1000, random_seed=cfg.seed, numpy_random_seed=cfg.seed,
            fewshot_random_seed=cfg.seed, verbosity="WARNING",
        )  # fmt: skip
    finally:
        lm.close()
    results["config"] = {**(results.get("config") or {}), **lm.get_model_info()}
    return results, lm


def run_lm_eval(cfg: LmEvalRun) -> list:
    """Evaluate every model on the lm-eval tasks; store items and metrics; print a summary."""
    from evalkit.lmeval.results import model_from_results, store_results
    from evalkit.lmeval.results import print_stored
    from evalkit.runner import new_run_id
    from evalkit.store import Store

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.getLogger("lm_eval").setLevel(logging.WARNING)
    manager = _task_manager(cfg)
    run_id, stored = new_run_id(), []
    with Store(cfg.db) as store:
        store.start_run(run_id, cfg.command, {"lm_eval": asdict(cfg) | {"db": str(cfg.db)}}, host_info(), __version__)
        try:
            for spec in cfg.models:
                results, lm = evaluate_model(cfg, spec, manager)
                samples = results.pop("samples", {}) or {}
                stored += [(lm.ref.name, t) for t in store_results(store, run_id, results, samples, model_from_results(results), lm.stats)]
        except KeyboardInterrupt:
            store.finish_run(run_id, "interrupted", [])
            raise
        except EvalkitError:
            store.finish_run(run_id, "failed", [])
            raise
        store.finish_run(run_id, "complete", [])
    print_stored(f"run {run_id}", cfg.db, stored)
    return stored
