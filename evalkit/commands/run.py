"""`evalkit run`: evaluate models on suites and store the results."""

from __future__ import annotations

import shlex
import sys

import click

from evalkit.runner import RunConfig, SuiteSelection
from evalkit.store import DEFAULT_DB

DEFAULT_SUITES = ("mmlu",)


def default_selection() -> list[SuiteSelection]:
    """The embedded default: each default suite on its own default subsets and limit."""
    return [SuiteSelection(name) for name in DEFAULT_SUITES]


@click.command("run")
@click.option("-m", "--model", "models", multiple=True, help="Model: a short name (see 'evalkit models'), a .gguf path, or hf:owner/repo/file.gguf. Repeatable.")
@click.option("-s", "--suite", "suites", multiple=True, help="Suite name (see 'evalkit suites') or path to a suite file. Repeatable.")
@click.option("--subset", "subsets", multiple=True, help="Subset (e.g. an MMLU subject), a group (stem, humanities, social_sciences, other) or 'all'. Repeatable.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many items per subset.")
@click.option("--shots", type=click.IntRange(0, 5), help="Few-shot examples (MMLU: 0..5 from dev; default 5).")
@click.option("--db", type=click.Path(dir_okay=False), default=str(DEFAULT_DB), show_default=True, help="DuckDB results file.")
@click.option("--data-dir", type=click.Path(file_okay=False), help="Offline data folder (e.g. holding mmlu/dev, mmlu/test). Default: the Hugging Face Hub.")
@click.option("--threads", type=click.IntRange(min=1), help="CPU threads for prompt processing and generation. Default: all cores.")
@click.option("--n-ctx", type=click.IntRange(min=256), default=4096, show_default=True, help="Context length to allocate.")
@click.option("--repack", type=click.Choice(["auto", "on", "off"]), default="auto", show_default=True, help="llama.cpp CPU weight repacking; 'auto' probes it in a child process first.")
@click.option("--force", is_flag=True, help="Re-evaluate items already stored for the same model, suite version and prompt.")
@click.option("--seed", type=click.IntRange(min=0), help="Seed of generated suites (fresh items for a new seed). Default: each suite's own seed.")
def run_cmd(models, suites, subsets, limit, shots, db, data_dir, threads, n_ctx, repack, force, seed):
    """Evaluate models on suites; print a summary and store every item in DuckDB.

    With no arguments, runs the embedded default model on the default selection.
    """
    from evalkit.models import DEFAULT_MODEL
    from evalkit.report import console_progress, print_summary

    if suites:
        selections = [SuiteSelection(s, list(subsets), limit, shots) for s in suites]
    elif subsets or limit or shots is not None:
        selections = [SuiteSelection("mmlu", list(subsets), limit, shots)]
    else:
        selections = default_selection()
    config = RunConfig(
        models=list(models) or [DEFAULT_MODEL],
        suites=selections,
        db=db,
        data_dir=data_dir,
        threads=threads,
        n_ctx=n_ctx,
        repack=repack,
        force=force,
        seed=seed,
        command="evalkit " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
    )
    from evalkit.runner import run

    with console_progress() as progress:
        summary = run(config, progress)
    print_summary(summary)
