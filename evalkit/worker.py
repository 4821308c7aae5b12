"""One matrix cell (one model file) evaluated in its own process: ``python -m evalkit.worker SPEC``.

Why a process per model: its peak resident memory is then the model's and the
harness's alone, and a crash inside llama.cpp (segfault, out of memory, SIGKILL)
ends this process only; the parent records a failed cell and goes on.

The worker never touches DuckDB (the parent is the only writer). It reads a
pickled :class:`WorkerSpec`, evaluates the pending items with each task's
``evaluate(job, backend, indices)``, and writes one JSON object per line to its
original stdout (fd 1 is then pointed at stderr, so that nothing printed by C
code can corrupt the stream). Messages, in order:

    hello    {pid, rss_baseline_bytes}
    loaded   {load_seconds, settings, rss_after_load_bytes}
    items    {job, rows: [ItemRow as dict, ...]}       (one per batch)
    job_done {job}
    bench    {pp_tps, tg_tps, ttft_ms_median, ttft_ms_p95, ...}   (if asked)
    done     {peak_rss_bytes, observed: {...}}
    error    {kind, classes, user_error, message}       (then exit code 1)

An ``error`` with ``user_error`` true (an EvalkitError: bad key, server gone, unreadable
model) is re-raised by the parent once the other cells have run; any other failure
(an unexpected exception, a signal) only fails the cell.

Test hook: ``EVALKIT_WORKER_KILL="LABEL:N"`` makes the worker of cell LABEL send
itself SIGKILL once it has streamed at least N items (a real kill, for tests).
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import IO

from evalkit.models import ModelRef
from evalkit.perf import BenchSpec


@dataclass
class WorkerSpec:
    label: str
    ref: ModelRef
    backend_options: dict
    jobs: list = field(default_factory=list)  # tasks.SubsetJob, each with .pending
    bench: BenchSpec | None = None


def write_spec(spec: WorkerSpec, path) -> None:
    with open(path, "wb") as fh:
        pickle.dump(spec, fh, protocol=pickle.HIGHEST_PROTOCOL)


def command(spec_path) -> list[str]:
    return [sys.executable, "-m", "evalkit.worker", str(spec_path)]


class Channel:
    """JSON lines to the parent."""

    def __init__(self, stream: IO[str]):
        self.stream = stream

    def emit(self, msg_type: str, /, **payload) -> None:
        self.stream.write(json.dumps({"type": msg_type, **payload}, default=_jsonable) + "\n")
        self.stream.flush()


def _jsonable(obj):
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()
    raise TypeError(f"cannot send {type(obj).__name__} to the parent")


def _protocol_stream() -> IO[str]:
    """Keep the real stdout for the protocol; send fd 1 (C printf, stray prints) to stderr."""
    sys.stdout.flush()
    proto = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    return proto


def _kill_after() -> tuple[str, int] | None:
    raw = os.environ.get("EVALKIT_WORKER_KILL")
    if not raw or ":" not in raw:
        return None
    label, _, n = raw.rpartition(":")
    return label, int(n)


def run_worker(spec: WorkerSpec, channel: Channel) -> None:
    from evalkit.backends.factory import LazyBackend
    from evalkit.memory import current_rss_bytes, peak_rss_bytes
    from evalkit.perf import MeteredLazy, micro_bench
    from evalkit.tasks import TASKS

    channel.emit("hello", pid=os.getpid(), rss_baseline_bytes=current_rss_bytes())
    lazy = MeteredLazy(LazyBackend(spec.ref, **spec.backend_options))
    t0 = time.perf_counter()
    inner = lazy.get()._backend
    load_seconds = getattr(inner, "load_seconds", None) or time.perf_counter() - t0
    channel.emit("loaded", load_seconds=load_seconds, settings=getattr(inner, "settings", {}),
                 rss_after_load_bytes=current_rss_bytes())  # fmt: skip
    kill = _kill_after()
    sent = 0
    for j, job in enumerate(spec.jobs):
        pending = set(job.pending)
        todo = [i for i, k in enumerate(job.keys) if k in pending]
        if todo:
            for rows in TASKS[job.suite.suite.kind].evaluate(job, lazy, todo):
                channel.emit("items", job=j, rows=[asdict(r) for r in rows])
                sent += len(rows)
                if kill and kill[0] == spec.label and sent >= kill[1]:
                    os.kill(os.getpid(), signal.SIGKILL)
        channel.emit("job_done", job=j)
    if spec.bench is not None and hasattr(inner, "llm"):
        channel.emit("bench", **micro_bench(inner, spec.bench))
    observed = lazy.metered.observed()
    lazy.close()
    channel.emit("done", peak_rss_bytes=peak_rss_bytes(), observed=observed)


def main(argv: list[str]) -> int:
    channel = Channel(_protocol_stream())
    try:
        with open(argv[0], "rb") as fh:
            spec = pickle.load(fh)
        run_worker(spec, channel)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # reported to the parent, which stores it as the cell's error
        from evalkit.errors import EvalkitError

        user = isinstance(exc, EvalkitError)
        message = str(exc) if user else f"{type(exc).__name__}: {exc}"
        channel.emit("error", kind=type(exc).__name__, classes=[c.__name__ for c in type(exc).__mro__], user_error=user,
                     message=message)  # fmt: skip
        if os.environ.get("EVALKIT_DEBUG") == "1":
            raise
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
