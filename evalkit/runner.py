"""Plan → skip what is stored → evaluate → store, for every model × suite × subset.

The CLI builds a :class:`RunConfig`; :func:`run` does the work and returns a
:class:`RunSummary`. Items are written to DuckDB as they finish, so Ctrl-C keeps
everything done and the next identical run resumes where this one stopped.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from evalkit import __version__
from evalkit.errors import ConfigError, DataUnavailable, EvalkitError, SuiteNotFound, did_you_mean
from evalkit.hostinfo import host_info
from evalkit.backends.factory import backend_fingerprint
from evalkit.backends.llamacpp import default_threads
from evalkit.cells import Cell, already_measured, display_name, expand, register
from evalkit.cost import HardwareProfile
from evalkit.ladder import LadderSpec, measure_ladders
from evalkit.matrix import CellRun, failed_before_start, reused, run_cell
from evalkit.perf import BenchSpec
from evalkit.references import load_into as load_references
from evalkit.sources import data_dir, list_subsets, load_subsets
from evalkit.store import DEFAULT_DB, Store
from evalkit.suite import Suite, load_suite
from evalkit.tasks import TASKS, SubsetJob
from evalkit.types import SubsetData


@dataclass
class SuiteSelection:
    """One --suite with its --subset / --limit / --shots choices."""

    suite: str
    subsets: list[str] = field(default_factory=list)  # names, group names, or "all"; empty = suite default
    limit: int | None = None
    shots: int | None = None


@dataclass
class RunConfig:
    models: list[str]
    suites: list[SuiteSelection]
    db: Path = DEFAULT_DB
    data_dir: str | None = None
    threads: int | None = None
    n_ctx: int = 4096
    repack: str = "auto"
    force: bool = False
    seed: int | None = None  # generated suites: overrides the suite's own seed
    command: str = ""
    bench: BenchSpec | None = None  # micro-benchmark (pp/tg/TTFT) per cell; None: skip it
    cost: HardwareProfile = field(default_factory=HardwareProfile)
    ladder: LadderSpec | None = None  # quality loss (KL, top-1, perplexity) of derived quantization levels


@dataclass
class SuitePlan:
    suite: Suite
    subsets: dict[str, SubsetData]
    shots: int


@dataclass
class SummaryRow:
    model: str
    suite: str
    subset: str
    n: int
    value: float
    ci_low: float
    ci_high: float
    metric: str = "accuracy"
    new: int = 0
    reused: int = 0
    errors: int = 0
    flags: list[str] = field(default_factory=list)


@dataclass
class RunSummary:
    run_id: str
    db: Path
    rows: list[SummaryRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    status: str = "complete"
    cells: list = field(default_factory=list)  # matrix.CellOutcome per model file


Progress = Callable[[str, int], None]  # (event, amount): "total"/"advance"/"describe"


def new_run_id() -> str:
    return f"{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def _expand_subsets(suite: Suite, wanted: list[str]) -> list[str]:
    known = list_subsets(suite)
    if not wanted:
        return list(suite.defaults.subsets) or known
    out: list[str] = []
    for name in wanted:
        if name == "all":
            out.extend(known)
        elif name in suite.groups:
            out.extend(suite.groups[name])
        elif name in known:
            out.append(name)
        else:
            raise SuiteNotFound(did_you_mean(name, list(known) + list(suite.groups), f"subset of {suite.name}"))
    return list(dict.fromkeys(out))


def plan(config: RunConfig) -> tuple[list[SuitePlan], list[str]]:
    """Load and check every suite; data that cannot be reached becomes a warning (all of it: an error)."""
    directory = data_dir(config.data_dir)
    plans, warnings = [], []
    for sel in config.suites:
        suite = load_suite(sel.suite)
        if suite.suite.kind not in TASKS:
            raise ConfigError(f"{suite.path}: kind '{suite.suite.kind}' is not supported. Use one of: {', '.join(TASKS)}.")
        subsets = _expand_subsets(suite, sel.subsets)
        shots = suite.prompt.fewshot if sel.shots is None else sel.shots
        if shots < 0 or shots > max(suite.prompt.fewshot, 5):
            raise ConfigError(f"--shots {shots} is out of range for {suite.name}: use 0..{max(suite.prompt.fewshot, 5)}.")
        try:
            data = load_subsets(suite, subsets, directory, config.seed)
        except DataUnavailable as exc:
            warnings.append(f"skipped suite {suite.name}: {exc}")
            continue
        limit = sel.limit if sel.limit is not None else (suite.defaults.limit if not sel.subsets else None)
        if limit is not None:
            for d in data.values():
                d.items = d.items[:limit]
        plans.append(SuitePlan(suite, data, shots))
    if not plans and warnings:
        raise DataUnavailable(warnings[0].split(": ", 1)[1])
    return plans, warnings


def eval_key(model_id: str, fingerprint: dict, suite: Suite, subset: str, item_id: str, p_hash: str) -> str:
    raw = json.dumps([model_id, fingerprint, suite.name, suite.version, subset, item_id, p_hash], sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def run(config: RunConfig, progress: Progress | None = None) -> RunSummary:
    """Evaluate every cell (model file) on every planned suite, each in its own worker process; store items,
    metrics and the cell's measurements; a cell that crashes is stored as failed and the others go on."""
    progress = progress or (lambda event, n: None)
    cells = expand(config.models, config.threads)
    plans, warnings = plan(config)
    summary = RunSummary(run_id=new_run_id(), db=Path(config.db), warnings=warnings)
    with Store(config.db) as store:
        store.start_run(summary.run_id, config.command, _config_json(config, plans), host_info(), __version__)
        load_references(store.con)
        try:
            _run_cells(cells, plans, store, config, summary, progress)
            if config.ladder is not None:
                summary.warnings.extend(measure_ladders(store, cells, config.ladder, config))
            user_errors = [o.user_error for o in summary.cells if o.user_error is not None]
            if user_errors:  # e.g. a wrong API key: the other cells ran; the run ends with that one-line error
                raise user_errors[0]
        except KeyboardInterrupt:
            summary.status = "interrupted"
            store.finish_run(summary.run_id, "interrupted", summary.warnings)
            raise
        except EvalkitError:
            store.finish_run(summary.run_id, "failed", summary.warnings)
            raise
        summary.status = "partial" if any(c.status == "failed" for c in summary.cells) else "complete"
        store.finish_run(summary.run_id, summary.status, summary.warnings)
    return summary


def _run_cells(cells: list[Cell], plans: list[SuitePlan], store: Store, config: RunConfig, summary: RunSummary,
               progress: Progress) -> None:  # fmt: skip
    for cell in cells:
        register(store, cell)
        cell.jobs = _jobs(cell, plans, store, config) if cell.ref is not None else []
    progress("total", sum(c.pending for c in cells))
    threads = config.threads or default_threads()  # decided once, so that every cell of the run uses the same
    ctx = CellRun(store, summary.run_id, {"n_ctx": config.n_ctx, "threads": threads, "repack": config.repack},
                  config.bench, config.cost, host_info(), progress)  # fmt: skip
    bench_key = json.dumps(config.bench.as_dict(), sort_keys=True) if config.bench else None
    for cell in cells:
        if cell.error:
            outcome = failed_before_start(ctx, cell)
        elif not cell.pending and (config.bench is None or already_measured(store, cell, config.threads, bench_key)):
            outcome = reused(cell)
        else:
            _probe_repack(cell, config, threads)
            outcome = run_cell(ctx, cell)
        summary.cells.append(outcome)
        if outcome.error:
            summary.warnings.append(f"cell {cell.label} failed: {outcome.error}")
        for pos, job in enumerate(cell.jobs):
            if pos in outcome.finished_jobs:
                summary.rows.append(_finish_job(job, store, summary.run_id, outcome, pos, summary))
    finished = [j for o in summary.cells for pos, j in enumerate(o.cell.jobs) if pos in o.finished_jobs]
    summary.rows.extend(_suite_totals(summary.rows, finished, store, summary.run_id))


def _probe_repack(cell: Cell, config: RunConfig, threads: int) -> None:
    """Run the repacking probe (a child process of the parent) before the worker, so it is cached and the
    worker's memory and time hold the model's own work only."""
    if cell.ref is not None and cell.ref.backend == "llamacpp" and cell.ref.path is not None:
        from evalkit.backends.safety import repack_allowed

        repack_allowed(str(cell.ref.path), config.repack, threads)


def _finish_job(job: SubsetJob, store: Store, run_id: str, outcome, pos: int, summary: RunSummary) -> SummaryRow:
    """Store and return the metrics of a job whose items are all evaluated."""
    task = TASKS[job.suite.suite.kind]
    metrics = task.summarize(job, store.latest_items(job.keys))
    common = {"suite": job.suite.name, "suite_version": job.suite.version, "subset": job.subset}
    store.add_metrics(run_id, job.model_id, [{**common, **m} for m in metrics])
    head = metrics[0]
    new = outcome.new_items.get(pos, 0)
    row = SummaryRow(display_name(job.model), job.suite.name, job.subset, head["n"], head["value"], head.get("ci_low"),
                     head.get("ci_high"), metric=head["metric"], new=new, reused=len(job.keys) - new,
                     errors=outcome.job_errors.get(pos, 0), flags=list(head.get("flags", [])))  # fmt: skip
    if row.flags:
        summary.warnings.append(f"{row.model} {job.suite.name}/{job.subset}: degenerate results {row.flags}")
    return row


def _jobs(cell: Cell, plans: list[SuitePlan], store: Store, config: RunConfig) -> list[SubsetJob]:
    jobs = []
    for p in plans:
        for subset, data in p.subsets.items():
            job = SubsetJob.build(cell.ref, cell.model_id, p.suite, data, p.shots, backend_fingerprint(cell.ref), eval_key)
            done = set() if config.force else store.done_keys(job.keys)
            job.pending = [k for k in job.keys if k not in done]
            jobs.append(job)
    return jobs


def _suite_totals(rows: list[SummaryRow], jobs: list[SubsetJob], store: Store, run_id: str) -> list[SummaryRow]:
    """Micro-averaged 'all' row per model × suite with more than one subset."""
    from evalkit.metrics import accuracy_row

    totals = []
    groups: dict[tuple[str, str], list[SubsetJob]] = {}
    for job in jobs:
        groups.setdefault((job.model.spec, job.plan.suite.name), []).append(job)
    for (spec, suite_name), group in groups.items():
        if len(group) < 2:
            continue
        stored = store.latest_items([k for j in group for k in j.keys])
        acc = accuracy_row([bool(r["correct"]) for r in stored])
        suite = group[0].plan.suite
        store.add_metrics(run_id, group[0].model_id, [{**acc, "suite": suite.name, "suite_version": suite.version, "subset": "all"}])
        sub_rows = [r for r in rows if r.model == display_name(group[0].model) and r.suite == suite_name]
        totals.append(
            SummaryRow(display_name(group[0].model), suite_name, "all", acc["n"], acc["value"], acc["ci_low"], acc["ci_high"],
                       new=sum(r.new for r in sub_rows), reused=sum(r.reused for r in sub_rows),
                       errors=sum(r.errors for r in sub_rows), flags=sorted({f for r in sub_rows for f in r.flags}))
        )  # fmt: skip
    return totals


def _suite_info(p: SuitePlan) -> dict:
    """What identifies a planned suite: version and content hash; for generated suites seed and generator version."""
    s = p.suite
    info = {"name": s.name, "version": s.version, "hash": s.content_hash, "kind": s.suite.kind, "shots": p.shots}
    if s.source.type == "generator":
        meta = next((d.items[0].meta for d in p.subsets.values() if d.items), {})
        info.update({k: meta.get(k) for k in ("seed", "generator", "generator_version")})
    return info


def _config_json(config: RunConfig, plans: list[SuitePlan] = ()) -> dict:
    return {
        "suite_info": [_suite_info(p) for p in plans],
        "models": config.models,
        "suites": [s.__dict__ for s in config.suites],
        "threads": config.threads,
        "n_ctx": config.n_ctx,
        "repack": config.repack,
        "force": config.force,
        "seed": config.seed,
        "data_dir": str(config.data_dir) if config.data_dir else None,
        "bench": config.bench.as_dict() if config.bench else None,
        "cost": config.cost.as_dict(),
        "ladder": config.ladder.as_dict() if config.ladder else None,
        "argv": sys.argv[1:],
    }


def worker_spec_for(config: RunConfig, model_spec: str, label: str | None = None):
    """The WorkerSpec the runner would give one model file, with every planned item pending (no store needed).

    For running a worker by hand, e.g. under `/usr/bin/time -v python -m evalkit.worker SPEC`."""
    from evalkit.worker import WorkerSpec

    cell = expand([model_spec], config.threads)[0]
    if cell.error:
        raise EvalkitError(cell.error)
    plans, _ = plan(config)
    jobs = []
    for p in plans:
        for data in p.subsets.values():
            job = SubsetJob.build(cell.ref, cell.model_id, p.suite, data, p.shots, backend_fingerprint(cell.ref), eval_key)
            job.pending = list(job.keys)
            jobs.append(job)
    options = {"n_ctx": config.n_ctx, "threads": config.threads, "repack": config.repack}
    return WorkerSpec(label or model_spec, cell.ref, options, jobs, config.bench)
