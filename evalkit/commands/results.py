"""`evalkit results`: the matrix (model × quantization × suite with RAM, speed, latency, cost) from a results database."""

from __future__ import annotations

import math

import click
from rich.table import Table

from evalkit.store import DEFAULT_DB


@click.command("results")
@click.option("--db", type=click.Path(dir_okay=False), default=str(DEFAULT_DB), show_default=True, help="DuckDB results file.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--references/--no-references", default=True, show_default=True, help="Also list published reference points (table format).")
def results_cmd(db, fmt, references):
    """Print the results matrix: one row per model file with peak RAM, pp/tg tokens per second, time to first
    token, $ per 1M tokens and the score on each suite (latest result per item). csv/json: one row per model
    file × suite with every column."""
    from evalkit.leaderboard import matrix
    from evalkit.references import stored
    from evalkit.report import out_console
    from evalkit.store import Store

    with Store(db, read_only=True) as store:
        df = matrix(store)
        refs = stored(store) if references else None
    if df.empty:
        out_console.print(f"no results in {db} yet: run 'evalkit run' first.")
        return
    if fmt == "csv":
        click.echo(df.drop(columns=["flags"]).to_csv(index=False), nl=False)
        return
    if fmt == "json":
        click.echo(df.to_json(orient="records"))
        return
    out_console.print(_matrix_table(df, db))
    if df["flags"].map(lambda f: isinstance(f, list | tuple) and len(f) > 0).any():
        out_console.print("[red]![/] degenerate probabilities detected for that cell: its score measures nothing.")
    if refs is not None and not refs.empty:
        out_console.print(_reference_table(refs))


def _f(x, fmt: str, scale: float = 1.0) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return format(x * scale, fmt)


def _matrix_table(df, db) -> Table:
    suites = sorted(df["suite"].unique())
    table = Table(title=f"results matrix ({db})", title_justify="left")
    for col in ("model", "quant", "bits/w", "RAM MB", "pp tok/s", "tg tok/s", "TTFT ms", "$/1M in", "$/1M out", *suites, "mean"):
        table.add_column(col, justify="left" if col in ("model", "quant") else "right")
    for model_id, rows in df.groupby("model_id", sort=False):
        r0 = rows.iloc[0]
        cells = []
        for s in suites:
            row = rows[rows.suite == s]
            if row.empty:
                cells.append("–")
                continue
            r = row.iloc[0]
            flag = " [red]![/]" if isinstance(r["flags"], list | tuple) and len(r["flags"]) else ""
            cells.append(f"{100 * r.mean_score:.1f}% ±{50 * (r.ci_high - r.ci_low):.1f} (n={r.n}){flag}")
        pp = r0.pp_tps if not _nan(r0.pp_tps) else r0.suite_pp_tps
        tg = r0.tg_tps if not _nan(r0.tg_tps) else r0.suite_tg_tps
        status = "" if r0.cell_status in (None, "complete") or _nan(r0.cell_status) else f" [red]({r0.cell_status})[/]"
        table.add_row(f"{r0.model}{status}", r0.quant if isinstance(r0.quant, str) else "", _f(r0.bits_per_weight, ".2f"), _f(r0.peak_rss_bytes, ".0f", 2**-20),
                      _f(pp, ".1f"), _f(tg, ".1f"), _f(r0.ttft_ms_median, ".0f"), _f(r0.usd_per_mtok_in, ".3f"),
                      _f(r0.usd_per_mtok_out, ".3f"), *cells, f"{100 * rows.mean_score.mean():.1f}%")  # fmt: skip
    return table


def _nan(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _reference_table(refs) -> Table:
    table = Table(title="published reference points (not measured by evalkit)", title_justify="left")
    for col in ("model", "suite", "score", "shots", "$/1M in", "$/1M out", "source"):
        table.add_column(col, justify="right" if col in ("score", "shots", "$/1M in", "$/1M out") else "left")
    for r in refs.itertuples():
        table.add_row(r.model, r.suite, f"{100 * r.value:.1f}%", _f(r.shots, ".0f"), _f(r.usd_per_mtok_in, ".2f"),
                      _f(r.usd_per_mtok_out, ".2f"), f"{r.source} ({r.published})")  # fmt: skip
    return table
