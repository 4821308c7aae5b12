"""`evalkit gate`: fail CI when a candidate run really regressed against a baseline."""

from __future__ import annotations

import os
from pathlib import Path

import click

from evalkit.store import DEFAULT_DB

REF_HELP = (
    "a run id or 'latest' (in --db), PATH.duckdb[:RUN_ID], or a baseline .json file; "
    "append #MODEL to pick one model of a multi-model run."
)


@click.command("gate")
@click.option("--baseline", required=True, help=f"What to compare against: {REF_HELP}")
@click.option("--candidate", required=True, help=f"What to check: {REF_HELP}")
@click.option("-s", "--suite", "suites", multiple=True, help="Gate only these suites (repeatable). Default: every suite both sides hold.")
@click.option("--max-drop", type=click.FloatRange(min=0), default=1.0, show_default=True, help="Tolerated drop of a suite's score, in percentage points.")
@click.option("--alpha", type=click.FloatRange(0, 0.5, min_open=True), default=0.05, show_default=True, help="Significance level of the one-sided test for a drop.")
@click.option("--min-items", type=click.IntRange(min=1), default=20, show_default=True, help="Fewest paired items per suite; fewer is an error, not a pass.")
@click.option("--min-overlap", type=click.FloatRange(0, 1, min_open=True), default=0.9, show_default=True, help="Share of items both sides must share (of the larger set).")
@click.option("--max-new-errors", type=click.IntRange(min=0), default=0, show_default=True, help="Items allowed to error in the candidate but not the baseline.")
@click.option("--min-speed-ratio", type=click.FloatRange(min=0), default=0.8, show_default=True, help="Fail if candidate tokens/s < this × baseline (same CPU only).")
@click.option("--max-ram-increase", type=click.FloatRange(min=0), default=0.10, show_default=True, help="Fail if peak RAM rises by more than this fraction.")
@click.option("--allow-suite-change", is_flag=True, help="Pair items by id even when the suite version differs, or when some prompts changed under the same suite file.")
@click.option("--resamples", type=click.IntRange(min=100), default=10_000, show_default=True, help="Bootstrap / randomization resamples for continuous scores.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the resampling.")
@click.option("--db", type=click.Path(dir_okay=False), default=str(DEFAULT_DB), show_default=True, help="DuckDB results file for run ids.")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "json"]), default="table", show_default=True, help="What to print on stdout.")
@click.option("--markdown", "markdown_out", type=click.Path(dir_okay=False), help="Also write the Markdown report to this file.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), help="Also write the JSON report to this file.")
def gate_cmd(baseline, candidate, suites, max_drop, alpha, min_items, min_overlap, max_new_errors, min_speed_ratio,
             max_ram_increase, allow_suite_change, resamples, seed, db, fmt, markdown_out, json_out):  # fmt: skip
    """Compare a candidate with a baseline item by item; exit 1 on a real regression.

    A suite fails when its score dropped by more than --max-drop percentage points
    AND the drop is significant at --alpha (McNemar's exact test for right/wrong
    items, a paired randomization test with a bootstrap CI for continuous scores).
    New errors, crashes, slower tokens/s and more peak RAM are gated too. Exit codes:
    0 pass, 1 regression, 2 usage error. With $GITHUB_STEP_SUMMARY set, the Markdown
    report is appended to it.
    """
    from evalkit.errors import EvalkitError, GateFailed
    from evalkit.gate import report as rep
    from evalkit.gate.compare import GateSettings, gate
    from evalkit.gate.refs import resolve

    settings = GateSettings(
        suites=tuple(suites), max_drop=max_drop, alpha=alpha, min_items=min_items, min_overlap=min_overlap,
        max_new_errors=max_new_errors, min_speed_ratio=min_speed_ratio, max_ram_increase=max_ram_increase,
        resamples=resamples, seed=seed, allow_suite_change=allow_suite_change,
    )  # fmt: skip
    try:
        result = gate(resolve(baseline, db), resolve(candidate, db), settings)
    except EvalkitError as exc:  # misuse: say why on the CI summary page too, then exit 2
        _summary(f"## ⚠️ evalkit gate: not run\n\n{exc}\n")
        raise
    markdown = rep.to_markdown(result)
    if fmt == "table":
        rep.print_table(result)
    else:
        click.echo(markdown if fmt == "markdown" else rep.dumps_json(result))
    _write(markdown_out, markdown)
    _write(json_out, rep.dumps_json(result) if json_out else None)
    _summary(markdown)
    if not result.passed:
        raise GateFailed("gate failed: " + "; ".join(result.failures()))


def _write(path: str | None, text: str | None) -> None:
    if path and text is not None:
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")


def _summary(markdown: str) -> None:
    """Append to the GitHub Actions job summary when running there."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(markdown + "\n")
