"""`evalkit run`: evaluate models on suites and store the results (quick flags, or a run file with -c)."""

from __future__ import annotations

import functools
import shlex
import sys

import click

from evalkit.runner import RunConfig, SuiteSelection
from evalkit.store import DEFAULT_DB

# One suite per family: knowledge (MMLU: skipped with a warning when neither the Hub nor --data-dir has it)
# and the three built-in ones, which need no download: classification, extraction, multi-step reasoning.
DEFAULT_SUITES = ("mmlu", "support_intents", "documents", "reasoning")
# Options a run file may not be combined with (it has its own [[models]] / [[suites]]).
MATRIX_OPTIONS = {"models": "--model", "suites": "--suite", "subsets": "--subset", "limit": "--limit", "shots": "--shots"}
# Options that override the run file's value when given on the command line (or as EVALKIT_* variables).
OVERRIDES = ("db", "data_dir", "threads", "n_ctx", "repack", "force", "seed")
COST_OPTIONS = {"cost_purchase_usd": "purchase_usd", "cost_years": "amortization_years", "cost_watts": "power_watts",
                "cost_kwh_usd": "electricity_usd_per_kwh", "cost_utilization": "utilization"}  # fmt: skip


def default_selection(limit: int | None = None, shots: int | None = None) -> list[SuiteSelection]:
    """The embedded default: each default suite on its own default subsets and limit (or --limit / --shots)."""
    return [SuiteSelection(name, [], limit, shots) for name in DEFAULT_SUITES]


# -- servers (openai:MODEL, ollama:MODEL) and the lm-evaluation-harness bridge ------------------
def server_options(fn):
    """--base-url, --api-key-env, ...: folded into every openai:/ollama: model spec (see docs/servers.md)."""
    opts = [
        click.option("--base-url", help="Server models: the OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1."),
        click.option("--api-key-env", help="Server models: NAME of the environment variable holding the API key (never the key)."),
        click.option("--endpoint", type=click.Choice(["completions", "chat"]), help="Server models: API endpoint. Default: chat for api.openai.com, else completions."),
        click.option("--choice-method", type=click.Choice(["auto", "next-token", "echo", "letter"]), help="Server models: how multiple choice is scored. Default auto: log-probabilities if the server returns them, else a generated letter."),
        click.option("--concurrency", type=click.IntRange(1, 256), help="Server models: concurrent requests (default 4)."),
        click.option("--request-timeout", type=click.FloatRange(min=0.1), help="Server models: seconds to wait for an answer (default 120)."),
    ]
    names = ("base_url", "api_key_env", "endpoint", "choice_method", "concurrency", "request_timeout")

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        kwargs["server"] = {n: kwargs.pop(n) for n in names}
        return fn(*args, **kwargs)

    for opt in reversed(opts):
        wrapper = opt(wrapper)
    return wrapper


def lmeval_options(fn):
    """--lm-eval-task: run lm-evaluation-harness tasks through evalkit's backends instead of suites."""
    opts = [
        click.option("--lm-eval-task", "lm_eval_tasks", multiple=True, help="Run this lm-evaluation-harness task (or group) through the model's evalkit backend. Repeatable."),
        click.option("--lm-eval-include", type=click.Path(exists=True, file_okay=False), help="Folder of extra lm-eval task YAML files (lm-eval's --include_path)."),
    ]

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        kwargs["lm_eval"] = {"tasks": kwargs.pop("lm_eval_tasks"), "include": kwargs.pop("lm_eval_include")}
        return fn(*args, **kwargs)

    for opt in reversed(opts):
        wrapper = opt(wrapper)
    return wrapper


def _with_server_options(models, server: dict) -> tuple:
    from evalkit.backends.server_spec import apply_cli_options

    return tuple(apply_cli_options(list(models), **server))


def _run_lm_eval(models, lm_eval, limit, shots, db, threads, n_ctx, repack, force) -> None:
    from evalkit.lmeval.runtask import LmEvalRun, run_lm_eval

    cfg = LmEvalRun(models=list(models), tasks=list(lm_eval["tasks"]), include_path=lm_eval["include"], limit=limit,
                    shots=shots, db=db, threads=threads, n_ctx=n_ctx, repack=repack, force=force,
                    command="evalkit " + " ".join(shlex.quote(a) for a in sys.argv[1:]))  # fmt: skip
    run_lm_eval(cfg)


@click.command("run")
@click.option("-c", "--config", "run_file", type=click.Path(dir_okay=False), help="A run file (evalkit.toml): models × quantization levels × suites, benchmark, cost profile. See docs/matrix.md.")
@click.option("-m", "--model", "models", multiple=True, help="Model: a short name (see 'evalkit models'), a .gguf path, hf:owner/repo/file.gguf, openai:MODEL or ollama:MODEL; append @Q8_0 (etc.) for a quantization level derived by llama.cpp. Repeatable.")
@click.option("-s", "--suite", "suites", multiple=True, help="Suite name (see 'evalkit suites') or path to a suite file. Repeatable.")
@click.option("--subset", "subsets", multiple=True, help="Subset (e.g. an MMLU subject), a group (stem, humanities, social_sciences, other) or 'all'. Repeatable.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many items per subset.")
@click.option("--shots", type=click.IntRange(0, 5), help="Few-shot examples (MMLU: 0..5 from dev; default 5).")
@click.option("--db", type=click.Path(dir_okay=False), default=str(DEFAULT_DB), show_default=True, help="DuckDB results file.")
@click.option("--data-dir", type=click.Path(file_okay=False), help="Offline data folder (e.g. holding mmlu/dev, mmlu/test). Default: the Hugging Face Hub.")
@click.option("--threads", type=click.IntRange(min=1), help="CPU threads for prompt processing and generation. Default: the cores not busy with other work.")
@click.option("--n-ctx", type=click.IntRange(min=256), default=4096, show_default=True, help="Context length to allocate.")
@click.option("--repack", type=click.Choice(["auto", "on", "off"]), default="auto", show_default=True, help="llama.cpp CPU weight repacking; 'auto' probes it in a child process first.")
@click.option("--force", is_flag=True, help="Re-evaluate items already stored for the same model, suite version and prompt.")
@click.option("--seed", type=click.IntRange(min=0), help="Seed of generated suites (fresh items for a new seed). Default: each suite's own seed.")
@click.option("--bench/--no-bench", default=None, help="Micro-benchmark each model (pp512, tg128, TTFT). Default: on with -c, off for quick runs.")
@click.option("--quality/--no-quality", default=None, help="Measure KL-divergence, top-1 agreement and perplexity of derived quantization levels. Default: on with -c, off otherwise.")
@click.option("--cost-purchase-usd", type=click.FloatRange(min=0), help="Hardware purchase price in US$ (default 1000).")
@click.option("--cost-years", type=click.FloatRange(min=0, min_open=True), help="Amortization period in years (default 3).")
@click.option("--cost-watts", type=click.FloatRange(min=0), help="Power draw under load in watts (default 45).")
@click.option("--cost-kwh-usd", type=click.FloatRange(min=0), help="Electricity price in US$ per kWh (default 0.17).")
@click.option("--cost-utilization", type=click.FloatRange(0, 1, min_open=True), help="Share of hours spent on inference, 0..1 (default 0.5).")
@server_options
@lmeval_options
def run_cmd(run_file, models, suites, subsets, limit, shots, db, data_dir, threads, n_ctx, repack, force, seed, bench,
            quality, server, lm_eval, **cost):  # fmt: skip
    """Evaluate models on suites; print a summary and store every item in DuckDB.

    With no arguments, runs the embedded default model on MMLU (if reachable) and the three built-in suites
    (support_intents, documents, reasoning), which need no download. Each model runs in its own worker
    process: its peak memory, load time and speed are stored per cell, and a crash fails that cell only
    (exit code 1 when a cell failed; run the same command again to complete it).
    """
    from evalkit.models import DEFAULT_MODEL
    from evalkit.report import console_progress, print_cells, print_summary
    from evalkit.runner import run

    if lm_eval["tasks"]:
        if suites or subsets or run_file:
            raise click.UsageError("--lm-eval-task cannot be combined with --suite/--subset/-c: run them as two commands.")
        models = _with_server_options(models, server)
        return _run_lm_eval(models or (DEFAULT_MODEL,), lm_eval, limit, shots, db, threads, n_ctx, repack, force)
    params = locals()
    command = "evalkit " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    config = _from_file(run_file, params, command) if run_file else _from_flags(params, command)
    config.models = list(_with_server_options(config.models, server))
    overrides = {COST_OPTIONS[k]: v for k, v in cost.items() if v is not None}
    if overrides:
        config.cost = config.cost.with_overrides(**overrides)
    _toggles(config, bench, quality)
    with console_progress() as progress:
        summary = run(config, progress)
    print_summary(summary)
    print_cells(summary)
    if summary.status == "partial":
        sys.exit(1)


def _from_flags(p: dict, command: str) -> RunConfig:
    from evalkit.models import DEFAULT_MODEL

    if p["suites"]:
        selections = [SuiteSelection(s, list(p["subsets"]), p["limit"], p["shots"]) for s in p["suites"]]
    elif p["subsets"]:  # subjects without --suite: MMLU's
        selections = [SuiteSelection("mmlu", list(p["subsets"]), p["limit"], p["shots"])]
    else:
        selections = default_selection(p["limit"], p["shots"])
    return RunConfig(models=list(p["models"]) or [DEFAULT_MODEL], suites=selections, db=p["db"], data_dir=p["data_dir"],
                     threads=p["threads"], n_ctx=p["n_ctx"], repack=p["repack"], force=p["force"], seed=p["seed"],
                     command=command)  # fmt: skip


def _from_file(path: str, p: dict, command: str) -> RunConfig:
    from click.core import ParameterSource

    from evalkit.errors import ConfigError
    from evalkit.runfile import to_config

    ctx = click.get_current_context()
    given = lambda name: ctx.get_parameter_source(name) in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)  # noqa: E731
    clash = [n for n in MATRIX_OPTIONS if given(n) and p[n] not in ((), None)]
    if clash:
        raise ConfigError(f"{MATRIX_OPTIONS[clash[0]]} cannot be combined with -c: put it in the run file's [[models]] / [[suites]].")
    config = to_config(path, command)
    for name in OVERRIDES:
        if given(name):
            setattr(config, name, p[name])
    return config


def _toggles(config: RunConfig, bench: bool | None, quality: bool | None) -> None:
    from evalkit.ladder import LadderSpec
    from evalkit.perf import BenchSpec

    if bench is True and config.bench is None:
        config.bench = BenchSpec()
    elif bench is False:
        config.bench = None
    if quality is True and config.ladder is None:
        config.ladder = LadderSpec()
    elif quality is False:
        config.ladder = None
