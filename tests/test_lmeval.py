"""lm-evaluation-harness bridge: ``lm_eval --model evalkit-llamacpp`` and ``evalkit import``.

lm-eval 0.4.13 finds models only in its own table, so evalkit ships ``evalkit_lmeval.pth``
(a start-up hook). When the venv has it installed (``pip install -e .`` does), the real
``lm_eval`` command is run; otherwise the same .pth file is processed by ``site.addsitedir``
in the child interpreter, which is exactly what Python does with site-packages at start-up.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from lmeval_tasks import TASK, offline_env, write_task

from evalkit.cli import cli
from evalkit.runner import RunConfig, SuiteSelection, run

pytestmark = [pytest.mark.model, pytest.mark.slow]
ROOT = Path(__file__).resolve().parent.parent
PTH = ROOT / "evalkit" / "lmeval" / "evalkit_lmeval.pth"


def lm_eval_command(tmp: Path) -> list[str]:
    installed = Path(sysconfig.get_paths()["purelib"]) / PTH.name
    script = Path(sys.executable).with_name("lm_eval")
    if installed.exists() and script.exists():
        return [str(script)]
    pth_dir = tmp / "site"
    pth_dir.mkdir()
    shutil.copy(PTH, pth_dir)
    boot = f"import site, sys; site.addsitedir({str(pth_dir)!r}); from lm_eval.__main__ import cli_evaluate; sys.argv[0] = 'lm_eval'; cli_evaluate()"
    return [sys.executable, "-c", boot]


@pytest.fixture(scope="module")
def lm_eval_output(data_dir, tmp_path_factory):
    """lm_eval --model evalkit-llamacpp on 3 MMLU items (0-shot), with --log_samples."""
    tmp = tmp_path_factory.mktemp("lmeval")
    tasks, out = write_task(data_dir, tmp / "tasks"), tmp / "out"
    cmd = lm_eval_command(tmp) + ["run", "--model", "evalkit-llamacpp", "--model_args", "model=smollm2-135m,threads=1",
                                  "--tasks", TASK, "--include_path", str(tasks), "--limit", "3", "--num_fewshot", "0",
                                  "--log_samples", "--output_path", str(out)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT), **offline_env(tmp)}
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, cwd=tmp)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "evalkit-llamacpp" in res.stdout and TASK in res.stdout
    return out


def test_lm_eval_cli_runs_through_evalkit_and_import_shows_in_results(lm_eval_output, data_dir, db_path):
    from evalkit.commands.importer import import_directory

    stored = import_directory(lm_eval_output, db_path)
    assert [(name, t.suite, t.n, t.new) for name, t in stored] == [("smollm2-135m", f"lmeval-{TASK}", 3, 3)]
    again = import_directory(lm_eval_output, db_path)
    assert [(t.new, t.reused) for _, t in again] == [(0, 3)]  # importing twice adds nothing

    shown = CliRunner().invoke(cli, ["results", "--db", str(db_path)])
    assert shown.exit_code == 0 and f"lmeval-{TASK}" in shown.output and "smollm2-135m" in shown.output

    # evalkit's own MMLU suite renders the same prompt: same model, same backend → same log-likelihoods
    run(RunConfig(models=["smollm2-135m"], suites=[SuiteSelection("mmlu", ["high_school_geography"], 3, 0)], db=db_path,
                  data_dir=str(data_dir), threads=1))  # fmt: skip
    con = duckdb.connect(str(db_path), read_only=True)
    pairs = con.execute(
        "SELECT a.prediction, b.prediction, a.logprobs, b.logprobs, a.model_id = b.model_id FROM items a JOIN items b "
        "ON split_part(a.item_id, '/', 2) = split_part(b.item_id, '/', 3) WHERE a.suite = ? AND b.suite = 'mmlu'",
        [f"lmeval-{TASK}"],
    ).fetchall()
    metrics = con.execute("SELECT metric, n FROM metrics WHERE suite = ?", [f"lmeval-{TASK}"]).fetchall()
    con.close()
    assert len(pairs) == 3 and metrics == [("acc", 3)]
    for pred_lm, pred_native, lps_lm, lps_native, same_model in pairs:
        assert same_model and pred_lm == pred_native
        assert max(abs(x - y) for x, y in zip(lps_lm, lps_native)) < 1e-6


def test_import_without_samples_says_how_to_fix(lm_eval_output, tmp_path):
    only_results = tmp_path / "no-samples"
    only_results.mkdir()
    for f in lm_eval_output.rglob("results_*.json"):
        shutil.copy(f, only_results)
    res = CliRunner().invoke(cli, ["import", str(only_results), "--db", str(tmp_path / "x.duckdb")])
    assert res.exit_code != 0 and "--log_samples" in str(res.exception)


def test_startup_hook_registers_lazily(tmp_path):
    """The .pth hook imports nothing heavy: lm-eval is not imported until a program imports it."""
    shutil.copy(PTH, tmp_path)
    code = (
        f"import site, sys; site.addsitedir({str(tmp_path)!r}); "
        "assert 'lm_eval' not in sys.modules and 'evalkit.lmeval.model' not in sys.modules; "
        "from lm_eval.api.registry import get_model; cls = get_model('evalkit-llamacpp'); "
        "print(cls.__module__, cls.__name__, 'hf' in __import__('lm_eval.api.registry').api.registry.model_registry)"
    )
    res = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                         text=True, timeout=120)  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.split() == ["evalkit.lmeval.model", "EvalkitLlamaCppLM", "True"]
