"""`evalkit import DIR`: load lm-evaluation-harness results (written with --log_samples) into DuckDB.

lm-eval writes ``<output_path>/<model>/results_<timestamp>.json`` and, with ``--log_samples``,
``samples_<task>_<timestamp>.jsonl`` beside it. Each results file becomes one evalkit run;
each sample one item (see :mod:`evalkit.lmeval.samples`). Importing the same files twice
adds nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from evalkit.errors import ConfigError
from evalkit.store import DEFAULT_DB


def find_results(directory: Path) -> list[Path]:
    if directory.is_file():
        return [directory]
    return sorted(directory.rglob("results_*.json"))


def load_samples(results_file: Path, tasks: list[str]) -> dict[str, list[dict]]:
    """task → samples, from samples_<task>_<same timestamp>.jsonl next to the results file."""
    stamp = results_file.stem[len("results_") :]
    out = {}
    for task in tasks:
        path = results_file.with_name(f"samples_{task}_{stamp}.jsonl")
        if not path.exists():
            continue
        with path.open(encoding="utf-8") as fh:
            try:
                out[task] = [json.loads(line) for line in fh if line.strip()]
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}: line {exc.lineno} is not JSON. Re-run lm_eval, or remove the file.") from None
    return out


def _read_results(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not an lm-eval results file ({type(exc).__name__}). Pass the folder lm_eval wrote.") from None
    if not isinstance(data, dict) or "results" not in data:
        raise ConfigError(f"{path} has no 'results': not an lm-eval results file. Pass the folder lm_eval --output_path wrote.")
    return data


def import_directory(directory: Path, db: Path, command: str = "") -> list:
    """Import every results file under *directory*; return (model name, StoredTask) pairs."""
    from evalkit import __version__
    from evalkit.lmeval.results import model_from_results, store_results
    from evalkit.runner import new_run_id
    from evalkit.store import Store

    files = find_results(directory)
    if not files:
        raise ConfigError(f"no lm-eval results_*.json under {directory}. Pass the folder given to lm_eval --output_path.")
    loaded = [(f, _read_results(f)) for f in files]
    loaded = [(f, r, load_samples(f, list(r["results"]))) for f, r in loaded]
    if not any(samples for _, _, samples in loaded):
        raise ConfigError(f"the results under {directory} have no per-item samples. Re-run lm_eval with --log_samples.")
    stored = []
    with Store(db) as store:
        for path, results, samples in loaded:
            if not samples:
                continue
            run_id = new_run_id()
            config = {"imported_from": str(path), "lm_eval_version": results.get("lm_eval_version"), "date": results.get("date")}
            store.start_run(run_id, command, config, {"note": "imported from lm-eval; the evaluating machine is not recorded"}, __version__)
            model = model_from_results(results)
            stored += [(model.name, t) for t in store_results(store, run_id, results, samples, model)]
            store.finish_run(run_id, "complete", [])
    return stored


@click.command("import")
@click.argument("directory", type=click.Path(exists=True, path_type=Path))
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=str(DEFAULT_DB), show_default=True, help="DuckDB results file.")
def import_cmd(directory: Path, db: Path) -> None:
    """Load lm-evaluation-harness results (run with --log_samples) into the results database."""
    import shlex
    import sys

    from evalkit.lmeval.results import print_stored

    stored = import_directory(directory, db, "evalkit " + " ".join(shlex.quote(a) for a in sys.argv[1:]))
    print_stored(f"imported from {directory}", db, stored)
