"""`evalkit baseline export`: write one run's per-item outcomes to a small JSON file for gates."""

from __future__ import annotations

import click

from evalkit.store import DEFAULT_DB


@click.group("baseline")
def baseline_group():
    """Baseline files: per-item results of a run, small enough to commit, for 'evalkit gate'."""


@baseline_group.command("export")
@click.argument("run_id")
@click.option("--db", type=click.Path(dir_okay=False), default=str(DEFAULT_DB), show_default=True, help="DuckDB results file.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="File to write, e.g. results/baselines/NAME.json.")
@click.option("-m", "--model", help="The model to export when the run holds several (name, spec or model id prefix).")
@click.option("--name", help="Name stored in the file (default: the file name).")
def export_cmd(run_id, db, out, model, name):
    """Export RUN_ID ('latest' for the newest finished run) of one model to a baseline file.

    The file holds every item's id, prompt hash and outcome (correct, score, error),
    the suites' names, versions and hashes, the model's facts, and the run's speed
    and RAM figures where they were measured.
    """
    from evalkit.errors import ConfigError
    from evalkit.gate.baseline_file import write
    from evalkit.gate.refs import resolve

    ref = f"{run_id}#{model}" if model else run_id
    if run_id.endswith(".json"):
        raise ConfigError(f"RUN_ID {run_id} is a baseline file: pass a run id (or 'latest') of a results database.")
    side = resolve(ref, db)
    if side.run_status not in ("complete", "partial"):
        raise ConfigError(f"run {side.run_id} is {side.run_status}: export a finished run (re-run the command to finish it).")
    if (side.cell or {}).get("status") == "failed":
        raise ConfigError(f"{side.model.get('spec') or side.model.get('name')} crashed in run {side.run_id}: a baseline "
                          "must be a run that completed. Re-run the command to complete it, then export.")  # fmt: skip
    path = write(side, out, name)
    suites = ", ".join(f"{s} v{v['version']}" for s, v in sorted(side.suites.items()))
    click.echo(f"wrote {path}: {len(side.items)} items of {side.model.get('name')} ({suites}) from run {side.run_id}")
