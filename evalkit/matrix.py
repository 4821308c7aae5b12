"""Run one matrix cell in a worker process and store what it streams back (the parent is the only DuckDB writer).

Items are written batch by batch as they arrive, so a worker that dies loses at
most the batch it was evaluating; the eval-key skip of the next run picks up
exactly the items that are missing.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from evalkit.cells import Cell, write_row
from evalkit.cost import HardwareProfile
from evalkit.procs import child_env, describe_exit, tail
from evalkit.store import ItemRow, utcnow
from evalkit.worker import WorkerSpec, command, write_spec


@dataclass
class CellOutcome:
    cell: Cell
    status: str  # complete | failed | interrupted | reused
    error: str | None = None
    finished_jobs: set[int] = field(default_factory=set)
    new_items: dict[int, int] = field(default_factory=dict)
    job_errors: dict[int, int] = field(default_factory=dict)
    row: dict = field(default_factory=dict)
    user_error: Exception | None = None  # an EvalkitError raised in the worker, to re-raise in the parent


@dataclass
class CellRun:
    """What the parent needs to run a cell: where to store, how to load, what to measure, what it costs."""

    store: object
    run_id: str
    backend_options: dict
    bench: object  # perf.BenchSpec | None
    profile: HardwareProfile
    host: dict
    progress: object


def reused(cell: Cell) -> CellOutcome:
    """A cell whose items and measurements are all stored already: no worker is started."""
    return CellOutcome(cell, "reused", finished_jobs=set(range(len(cell.jobs))))


def failed_before_start(ctx: CellRun, cell: Cell) -> CellOutcome:
    """A quantization level that could not be derived: a failed cell with the reason, nothing to run."""
    started = utcnow()
    row = write_row(ctx.store, ctx.run_id, cell, "failed", cell.error, {"cpu": ctx.host.get("cpu")}, ctx.profile, started, {})
    return CellOutcome(cell, "failed", cell.error, row=row)


def run_cell(ctx: CellRun, cell: Cell) -> CellOutcome:
    """Evaluate the cell's pending items and benchmark it in a fresh worker; store items and the cell row."""
    started = utcnow()
    outcome = CellOutcome(cell, "failed")
    state: dict = {}
    spec = WorkerSpec(cell.label, cell.ref, ctx.backend_options, cell.jobs, ctx.bench)
    with tempfile.TemporaryDirectory(prefix="evalkit-worker-") as tmp:
        spec_path, log_path = Path(tmp) / "spec.pkl", Path(tmp) / "stderr.log"
        write_spec(spec, spec_path)
        with open(log_path, "w") as log:
            proc = subprocess.Popen(command(spec_path), stdout=subprocess.PIPE, stderr=log, text=True, env=child_env())
            try:
                _pump(proc, ctx, outcome, state)
                returncode = proc.wait()
            except KeyboardInterrupt:
                _stop(proc)
                outcome.status, outcome.error = "interrupted", "interrupted by the user"
                outcome.row = _store(ctx, cell, outcome, state, started, log_path)
                raise
        outcome.status, outcome.error = _verdict(returncode, state, log_path)
        outcome.user_error = _user_error(state.get("error"))
        outcome.row = _store(ctx, cell, outcome, state, started, log_path)
    return outcome


def _user_error(msg: dict | None) -> Exception | None:
    """The worker's EvalkitError rebuilt as the same evalkit.errors class (or its nearest base)."""
    if not msg or not msg.get("user_error"):
        return None
    from evalkit import errors

    for name in msg.get("classes", []):
        cls = getattr(errors, name, None)
        if isinstance(cls, type) and issubclass(cls, errors.EvalkitError):
            return cls(msg["message"])
    return errors.EvalkitError(msg["message"])


def _pump(proc: subprocess.Popen, ctx: CellRun, outcome: CellOutcome, state: dict) -> None:
    """Read the worker's JSON lines until it closes its end; store item batches as they come."""
    for line in proc.stdout:
        try:
            msg = json.loads(line)
        except ValueError:
            state.setdefault("noise", []).append(line[:200])
            continue
        kind = msg.pop("type", None)
        if kind == "items":
            rows = [ItemRow(**r) for r in msg["rows"]]
            ctx.store.add_items(ctx.run_id, rows)
            outcome.new_items[msg["job"]] = outcome.new_items.get(msg["job"], 0) + len(rows)
            outcome.job_errors[msg["job"]] = outcome.job_errors.get(msg["job"], 0) + sum(1 for r in rows if r.error)
            ctx.progress("advance", len(rows))
        elif kind == "job_done":
            outcome.finished_jobs.add(msg["job"])
        elif kind:
            state[kind] = msg


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _verdict(returncode: int, state: dict, log_path: Path) -> tuple[str, str | None]:
    if returncode == 0 and "done" in state:
        return "complete", None
    if "error" in state:
        return "failed", state["error"]["message"]
    why = f"worker {describe_exit(returncode)}" if returncode != 0 else "worker ended without reporting its results"
    last = tail(log_path, lines=2)
    return "failed", why + (f"; last output: {last}" if last else "")


def _store(ctx: CellRun, cell: Cell, outcome: CellOutcome, state: dict, started, log_path: Path) -> dict:
    loaded, bench, done = state.get("loaded", {}), state.get("bench", {}), state.get("done", {})
    measured = {
        "cpu": ctx.host.get("cpu"),
        "threads": (loaded.get("settings") or {}).get("threads"),
        "load_seconds": loaded.get("load_seconds"),
        "peak_rss_bytes": done.get("peak_rss_bytes"),
        **{k: bench.get(k) for k in ("pp_tps", "tg_tps", "ttft_ms_median", "ttft_ms_p95")},
        **{k: (done.get("observed") or {}).get(k) for k in ("suite_pp_tps", "suite_tg_tps")},
    }
    details = {
        "worker_pid": state.get("hello", {}).get("pid"),
        "rss_baseline_bytes": state.get("hello", {}).get("rss_baseline_bytes"),
        "rss_after_load_bytes": loaded.get("rss_after_load_bytes"),
        "settings": loaded.get("settings"),
        "bench_key": json.dumps(ctx.bench.as_dict(), sort_keys=True) if ctx.bench and bench else None,
        "bench": {k: v for k, v in bench.items() if k.endswith(("runs", "runs_ms", "prompt_tokens"))},
        "observed": done.get("observed"),
        "new_items": sum(outcome.new_items.values()),
        "jobs_finished": len(outcome.finished_jobs),
        "jobs": len(cell.jobs),
    }
    scrub = _scrubber(cell)
    if outcome.status != "complete":
        details["stderr_tail"] = scrub(tail(log_path, lines=20, chars=4000))
    return write_row(ctx.store, ctx.run_id, cell, outcome.status, scrub(outcome.error), measured, ctx.profile, started, details)


def _scrubber(cell: Cell):
    """Masks a server model's API key in anything stored about its cell (worker output can echo it)."""
    import os

    server = getattr(cell.ref, "server", None) if cell.ref else None
    key_env = getattr(server, "key_env", "") if server else ""
    if not key_env or not os.environ.get(key_env):
        return lambda text: text
    from evalkit.backends.secrets import Scrubber

    return Scrubber(os.environ[key_env].strip())
