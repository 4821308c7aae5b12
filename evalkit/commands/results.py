"""`evalkit results`: the leaderboard from a results database."""

from __future__ import annotations

import click
from rich.table import Table

from evalkit.store import DEFAULT_DB


@click.command("results")
@click.option("--db", type=click.Path(dir_okay=False), default=str(DEFAULT_DB), show_default=True, help="DuckDB results file.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
def results_cmd(db, fmt):
    """Print a leaderboard: each model's score on each suite (latest result per item)."""
    from evalkit.leaderboard import leaderboard
    from evalkit.report import out_console
    from evalkit.store import Store

    with Store(db, read_only=True) as store:
        df = leaderboard(store)
    if df.empty:
        out_console.print(f"no results in {db} yet: run 'evalkit run' first.")
        return
    if fmt == "csv":
        click.echo(df.drop(columns=["flags"]).to_csv(index=False), nl=False)
        return
    if fmt == "json":
        click.echo(df.to_json(orient="records"))
        return
    suites = sorted(df["suite"].unique())
    table = Table(title=f"leaderboard ({db})", title_justify="left")
    table.add_column("model")
    table.add_column("quant")
    for s in suites:
        table.add_column(s, justify="right")
    table.add_column("mean", justify="right")
    ranked = df.groupby(["model", "quant"], dropna=False)["accuracy"].mean()  # server models have no quant.sort_values(ascending=False)
    for (model, quant), mean in ranked.items():
        cells = []
        for s in suites:
            row = df[(df.model == model) & (df.suite == s)]
            if row.empty:
                cells.append("–")
                continue
            r = row.iloc[0]
            flag = " [red]![/]" if isinstance(r["flags"], list | tuple) and len(r["flags"]) else ""
            cells.append(f"{100 * r.accuracy:.1f}% ±{50 * (r.ci_high - r.ci_low):.1f} (n={r.n}){flag}")
        table.add_row(model, quant if isinstance(quant, str) else "", *cells, f"{100 * mean:.1f}%")
    out_console.print(table)
    if df["flags"].map(lambda f: isinstance(f, list | tuple) and len(f) > 0).any():
        out_console.print("[red]![/] degenerate probabilities detected for that cell: its score measures nothing.")
