"""Terminal output: progress bar with ETA, run summary, leaderboard."""

from __future__ import annotations

import math
import sys
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

err_console = Console(stderr=True)
out_console = Console(width=None if sys.stdout.isatty() else 160)


@contextmanager
def console_progress():
    """A progress callback for runner.run, drawn on stderr."""
    bar = Progress(
        TextColumn("[bold]evaluating"), BarColumn(), MofNCompleteColumn(), TextColumn("items"),
        TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=err_console, transient=False,
        disable=not sys.stderr.isatty(),
    )  # fmt: skip
    task = {"id": None}

    def callback(event: str, n: int) -> None:
        if event == "total":
            task["id"] = bar.add_task("run", total=n)
        elif event == "advance" and task["id"] is not None:
            bar.advance(task["id"], n)

    with bar:
        yield callback


def _pct(x) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}%"


def print_summary(summary) -> None:
    table = Table(title=f"run {summary.run_id}", title_justify="left")
    for col in ("model", "suite", "subset", "n", "score", "95% CI", "new", "stored", "errors", "flags"):
        table.add_column(col, justify="right" if col in ("n", "score", "new", "stored", "errors") else "left")
    for r in summary.rows:
        flags = ", ".join(r.flags)
        table.add_row(
            r.model, r.suite, r.subset, str(r.n), _pct(r.value) + ("" if r.metric == "accuracy" else f" {r.metric}"),
            f"{_pct(r.ci_low)} – {_pct(r.ci_high)}",
            str(r.new), str(r.reused), str(r.errors), f"[bold red]{flags}[/]" if flags else "",
        )  # fmt: skip
    out_console.print(table)
    for w in summary.warnings:
        err_console.print(f"[bold yellow]warning:[/] {w}", highlight=False)
    if any(r.flags for r in summary.rows):
        err_console.print(
            "[bold red]DEGENERATE RESULTS:[/] some choice probabilities are all equal or NaN, one answer was given for "
            "every item, or every output was empty. These scores measure nothing; check the model and prompt.", highlight=False
        )  # fmt: skip
    out_console.print(f"results stored in {summary.db} (run {summary.run_id}, status {summary.status})", highlight=False)


def _num(x, fmt: str) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, fmt)


def print_cells(summary) -> None:
    """One line per matrix cell (model file): status, peak memory, speed, latency and cost."""
    if not getattr(summary, "cells", None):
        return
    table = Table(title="cells (one worker process per model file)", title_justify="left")
    cols = ("model", "quant", "status", "peak RSS MB", "load s", "pp tok/s", "tg tok/s", "TTFT ms p50/p95", "$/1M in/out", "$/1k items")
    for col in cols:
        table.add_column(col, justify="left" if col in ("model", "quant", "status") else "right")
    for o in summary.cells:
        r = o.row or {}
        status = o.status if not o.error else f"[bold red]{o.status}[/]"
        rss = r.get("peak_rss_bytes")
        table.add_row(
            o.cell.label, o.cell.quant or "", status, _num(rss / 2**20 if rss else None, ".0f"), _num(r.get("load_seconds"), ".2f"),
            _num(r.get("pp_tps") or r.get("suite_pp_tps"), ".1f"), _num(r.get("tg_tps") or r.get("suite_tg_tps"), ".1f"),
            f"{_num(r.get('ttft_ms_median'), '.0f')}/{_num(r.get('ttft_ms_p95'), '.0f')}",
            f"{_num(r.get('usd_per_mtok_in'), '.3f')}/{_num(r.get('usd_per_mtok_out'), '.3f')}", _num(r.get("usd_per_1k_items"), ".4f"),
        )  # fmt: skip
    out_console.print(table)
    for o in summary.cells:
        if o.error:
            err_console.print(f"[bold red]cell {o.cell.label} {o.status}:[/] {o.error}", highlight=False)
