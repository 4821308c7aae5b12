"""End to end on a real shipped model through real llama.cpp, into a real DuckDB file."""

from __future__ import annotations

import math
import subprocess
import sys

import duckdb
import pytest

from evalkit.runner import RunConfig, SuiteSelection, run

pytestmark = pytest.mark.model

GEO = ["run", "--model", "smollm2-135m", "--suite", "mmlu", "--subset", "high_school_geography", "--limit", "20"]


def evalkit(*args, env_extra=None):
    import os

    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "evalkit", *args], capture_output=True, text=True, env=env)


@pytest.fixture(scope="module")
def geo_db(tmp_path_factory, data_dir):
    db = tmp_path_factory.mktemp("geo") / "X.duckdb"
    first = evalkit(*GEO, "--db", str(db), "--data-dir", str(data_dir))
    assert first.returncode == 0, first.stderr
    second = evalkit(*GEO, "--db", str(db), "--data-dir", str(data_dir))
    assert second.returncode == 0, second.stderr
    return db, first, second


def test_cli_run_stores_20_items_with_probabilities_and_a_metric(geo_db):
    db, first, _ = geo_db
    assert "high_school_geography" in first.stdout and "score" in first.stdout
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("SELECT probs, prediction, target, correct, prompt_tokens, latency_ms FROM items").fetchall()
    assert len(rows) == 20
    for probs, pred, target, correct, ptoks, latency in rows:
        assert len(probs) == 4 and math.isclose(sum(probs), 1.0, abs_tol=1e-6)
        assert pred in "ABCD" and target in "ABCD" and correct == (pred == target)
        assert ptoks > 100 and latency > 0  # 5-shot prompt
    metrics = con.execute("SELECT metric, value, n, ci_low, ci_high FROM metrics WHERE subset = 'high_school_geography'").fetchall()
    assert len(metrics) == 2  # one per run
    metric, value, n, low, high = metrics[0]
    k = con.execute("SELECT count(*) FROM items WHERE correct").fetchone()[0]
    assert metric == "accuracy" and n == 20 and value == pytest.approx(k / 20) and low <= value <= high
    run_rows = con.execute("SELECT status, host->>'cpu', host->>'llama_cpp_python' FROM runs").fetchall()
    assert [r[0] for r in run_rows] == ["complete", "complete"] and run_rows[0][2] == "0.3.36"
    model = con.execute("SELECT quant_type, n_params, file_size, context_length FROM models").fetchone()
    assert model[0] == "Q4_1" and 100e6 < model[1] < 200e6 and model[2] > 0 and model[3] == 8192


def test_second_identical_run_evaluates_nothing_new(geo_db):
    db, _, second = geo_db
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM items").fetchone()[0] == 20
    # the summary reports 0 new, 20 stored
    line = next(l for l in second.stdout.splitlines() if "high_school_geography" in l)
    cells = [c.strip() for c in line.split("│") if c.strip()]
    assert cells[-3:] == ["0", "20", "0"] or cells[-4:-1] == ["0", "20", "0"]


def test_results_prints_a_leaderboard(geo_db):
    db, _, _ = geo_db
    out = evalkit("results", "--db", str(db))
    assert out.returncode == 0 and "smollm2-135m" in out.stdout and "n=20" in out.stdout


def test_predictions_match_an_independent_full_prompt_evaluation(geo_db, data_dir, smollm2_path):
    """lm-eval picks the argmax of the four log-likelihoods; recompute them without any KV reuse."""
    import numpy as np

    from evalkit.backends.llamacpp import load_llama
    from evalkit.prompt import build_body, build_prefix
    from evalkit.sources import load_subsets
    from evalkit.suite import load_suite

    db, _, _ = geo_db
    stored = dict(duckdb.connect(str(db), read_only=True).execute("SELECT item_id, prediction FROM items").fetchall())
    suite = load_suite("mmlu")
    data = load_subsets(suite, ["high_school_geography"], data_dir)["high_school_geography"]
    llm = load_llama(smollm2_path, n_ctx=2048, n_batch=512, threads=2, use_extra_bufts=False)
    prefix = build_prefix(suite, data)
    for item in data.items[:8]:
        context = prefix + build_body(suite, item)
        ctx = llm.tokenize(context.encode())
        scores = []
        for letter in "ABCD":
            whole = llm.tokenize((context + " " + letter).encode())
            assert whole[: len(ctx)] == ctx and len(whole) == len(ctx) + 1
            llm.reset()
            llm.eval(ctx)
            logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),)).astype(np.float64)
            logp = logits - np.log(np.exp(logits - logits.max()).sum()) - logits.max()
            scores.append(logp[whole[-1]])
        assert stored[item.id] == "ABCD"[int(np.argmax(scores))]
    llm.close()


def test_runs_are_deterministic(tmp_path, data_dir):
    preds = []
    for name in ("a", "b"):
        cfg = RunConfig(models=["smollm2-135m"], suites=[SuiteSelection("mmlu", ["world_religions"], 6, 2)],
                        db=tmp_path / f"{name}.duckdb", data_dir=str(data_dir))  # fmt: skip
        run(cfg)
        con = duckdb.connect(str(tmp_path / f"{name}.duckdb"), read_only=True)
        preds.append(con.execute("SELECT item_id, prediction, probs FROM items ORDER BY item_id").fetchall())
        con.close()
    assert [p[:2] for p in preds[0]] == [p[:2] for p in preds[1]]
    for (_, _, a), (_, _, b) in zip(*preds):
        assert a == pytest.approx(b, abs=1e-9)


def test_interrupted_run_keeps_finished_items_and_resumes(tmp_path, data_dir):
    db = tmp_path / "r.duckdb"
    cfg = RunConfig(models=["smollm2-135m"], suites=[SuiteSelection("mmlu", ["anatomy"], 40, 1)], db=db,
                    data_dir=str(data_dir))  # fmt: skip
    seen = {"n": 0}

    def interrupt_after_first_batch(event, n):
        if event == "advance":
            seen["n"] += n
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(cfg, interrupt_after_first_batch)
    con = duckdb.connect(str(db), read_only=True)
    kept = con.execute("SELECT count(*) FROM items").fetchone()[0]
    status = con.execute("SELECT status FROM runs").fetchone()[0]
    con.close()
    assert kept == seen["n"] > 0 and status == "interrupted"
    summary = run(cfg)
    row = summary.rows[0]
    assert row.new == 40 - kept and row.reused == kept and row.n == 40


def test_force_re_evaluates(tmp_path, data_dir):
    db = tmp_path / "f.duckdb"
    cfg = RunConfig(models=["smollm2-135m"], suites=[SuiteSelection("mmlu", ["virology"], 3, 0)], db=db,
                    data_dir=str(data_dir))  # fmt: skip
    run(cfg)
    cfg.force = True
    assert run(cfg).rows[0].new == 3


def test_default_run_reports_unreachable_data_in_one_line(tmp_path):
    out = evalkit("run", "--db", str(tmp_path / "d.duckdb"), env_extra={"HF_HUB_OFFLINE": "1", "EVALKIT_DATA_DIR": ""})
    assert "Traceback" not in out.stderr
    assert "--data-dir" in out.stderr and "Hugging Face" in out.stderr
