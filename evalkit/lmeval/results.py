"""Store one lm-eval results object (+ its samples) in the evalkit results database."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from evalkit.lmeval.samples import clean_model_args, first_filter_samples, metric_rows, sample_row, suite_of
from evalkit.store import Store


@dataclass
class LmEvalModel:
    model_id: str
    spec: str
    name: str
    info: dict
    fingerprint: dict


def model_from_results(results: dict) -> LmEvalModel:
    """The evaluated model: evalkit's own id when it ran through the bridge, else one derived from lm-eval's config."""
    cfg = results.get("config") or {}
    if cfg.get("evalkit_model_id"):
        return LmEvalModel(cfg["evalkit_model_id"], cfg.get("evalkit_spec") or "", cfg.get("evalkit_name") or "",
                           dict(cfg.get("evalkit_facts") or {}), dict(cfg.get("evalkit_fingerprint") or {}))  # fmt: skip
    model = str(cfg.get("model") or "unknown")
    args = clean_model_args(cfg.get("model_args"))
    digest = hashlib.sha256(f"{model}\n{args}".encode()).hexdigest()[:24]
    name = results.get("model_name") or args or model
    info = {"source": "lm-eval import", "lm_eval_model": model, "model_args": args, "model_sha": results.get("model_sha")}
    return LmEvalModel(f"lmeval-{digest}", f"lm-eval:{model}:{args}", str(name), info, {"backend": f"lm-eval:{model}"})


@dataclass
class StoredTask:
    suite: str
    task: str
    metric: str
    value: float | None
    n: int
    new: int
    reused: int


def store_results(store: Store, run_id: str, results: dict, samples: dict[str, list[dict]], model: LmEvalModel,
                  stats: dict | None = None) -> list[StoredTask]:  # fmt: skip
    """Write items (skipping ones already stored with the same key) and metrics; one StoredTask per task."""
    store.upsert_model(model.model_id, model.spec, model.name, model.info)
    out = []
    for task, task_samples in samples.items():
        suite = suite_of(task, results)
        version = str((results.get("versions") or {}).get(task, "0"))
        meta = {"model_id": model.model_id, "fingerprint": model.fingerprint, "suite": suite, "version": version,
                "task_hash": str((results.get("task_hashes") or {}).get(task) or "")[:16] or None, "stats": stats or {}}  # fmt: skip
        rows = [sample_row(s, task, meta) for s in first_filter_samples(task_samples)]
        done = store.done_keys([r.eval_key for r in rows])
        fresh = [r for r in rows if r.eval_key not in done]
        store.add_items(run_id, fresh)
        metrics = metric_rows(results, task, suite, version)
        if fresh:
            store.add_metrics(run_id, model.model_id, metrics)
        head = metrics[0] if metrics else {"metric": "-", "value": None}
        out.append(StoredTask(suite, task, head["metric"], head["value"], len(rows), len(fresh), len(rows) - len(fresh)))
    return out


def print_stored(title: str, db, stored: list[tuple[str, StoredTask]]) -> None:
    """A summary table: model, suite, task, headline metric, items new/already stored."""
    from rich.table import Table

    from evalkit.report import out_console

    table = Table(title=title, title_justify="left")
    for col in ("model", "suite", "task", "metric", "value", "n", "new", "stored"):
        table.add_column(col, justify="right" if col in ("value", "n", "new", "stored") else "left")
    for name, t in stored:
        value = "–" if t.value is None else f"{t.value:.4g}"
        table.add_row(name, t.suite, t.task, t.metric, value, str(t.n), str(t.new), str(t.reused))
    out_console.print(table)
    out_console.print(f"results stored in {db}", highlight=False)
