"""Resolving gate REFs against DuckDB files written through evalkit's own Store (multi-model runs, cells,
reused items) and baseline files. Real runs of a real model are in tests/test_gate_real.py."""

import json

import pytest

from evalkit.errors import ConfigError
from evalkit.gate import baseline_file
from evalkit.gate.compare import GateSettings, gate
from evalkit.gate.refs import resolve
from evalkit.store import ItemRow, Store


def _rows(model_id, correct, subset="s1", start=0):
    return [
        ItemRow(model_id=model_id, eval_key=f"{model_id}-{subset}-{i}", suite="qa", suite_version="1", suite_hash="h",
                subset=subset, item_id=f"{subset}/{i}", prompt_hash=f"p{i}", prediction="A", target="A",
                correct=c, score=float(c))
        for i, c in enumerate(correct, start)
    ]  # fmt: skip


def _store_run(store, run_id, items_by_model, metrics=None, cells=None):
    store.start_run(run_id, "evalkit run ...", {}, {"cpu": "test-cpu"}, "0")
    for model_id, rows in items_by_model.items():
        # like a derived quantization level: same name as its source, its own spec ('smol@Q2_K')
        store.upsert_model(model_id, f"smol@{model_id.upper()}", "smol", {"quant_type": model_id.upper(), "path": "/x.gguf"})
        store.add_items(run_id, rows)
    for model_id, subset, n in metrics or []:
        store.add_metrics(run_id, model_id, [{"suite": "qa", "suite_version": "1", "subset": subset, "metric": "accuracy", "value": 0.5, "n": n}])
    for model_id, cell in (cells or {}).items():
        cols = ", ".join(["run_id", "model_id", *cell])
        store.con.execute(f"INSERT INTO cells ({cols}) VALUES ({', '.join('?' * (2 + len(cell)))})", [run_id, model_id, *cell.values()])
    store.finish_run(run_id, "complete", [])


@pytest.fixture
def db(db_path):
    good = [True] * 30 + [False] * 20
    bad = [False] * 15 + [True] * 15 + [False] * 20
    with Store(db_path) as store:
        _store_run(store, "run-1", {"q8_0": _rows("q8_0", good), "q2_k": _rows("q2_k", bad)},
                   cells={"q8_0": {"status": "complete", "cpu": "c", "threads": 2, "pp_tps": 500.0, "tg_tps": 50.0, "peak_rss_bytes": 300_000_000},
                          "q2_k": {"status": "complete", "cpu": "c", "threads": 2, "pp_tps": 520.0, "tg_tps": 49.0, "peak_rss_bytes": 200_000_000}})  # fmt: skip
    return db_path


def test_multi_model_run_needs_a_model_and_names_the_choices(db):
    with pytest.raises(ConfigError, match=r"run run-1 holds 2 models \(.*smol@Q2_K.*\): pick one with run-1#NAME"):
        resolve("run-1", db)
    with pytest.raises(ConfigError, match="unknown model 'smol@Q4_0'. Did you mean: .*smol@Q2_K"):
        resolve("run-1#smol@Q4_0", db)
    with pytest.raises(ConfigError, match="'smol' matches 2 models of run run-1"):  # the shared name is ambiguous
        resolve("run-1#smol", db)


def test_two_models_of_one_run_gated_with_cells(db):
    base, cand = resolve("run-1#smol@Q8_0", db), resolve(f"{db}:run-1#smol@Q2_K", db)
    assert base.model["quant_type"] == "Q8_0" and cand.cell["pp_tps"] == 520.0 and cand.label == "smol@Q2_K @ run-1"
    rep = gate(base, cand, GateSettings())
    assert not rep.passed and rep.suites[0].result.lost == 15
    checks = {c.name.split(" (")[0]: c for c in rep.checks}
    assert checks["prompt speed"].verdict == "pass" and checks["peak RAM"].ratio == pytest.approx(2 / 3)


def test_latest_and_prefixes(db):
    assert resolve("latest#smol@Q8_0", db).run_id == "run-1"
    assert resolve("run#smol@Q8_0", db).run_id == "run-1"  # a unique prefix
    assert resolve(f"{db}#smol@Q8_0", db).run_id == "run-1"


def test_reused_items_are_taken_from_earlier_runs_when_unambiguous(db):
    with Store(db) as store:  # a later run that evaluated 10 new items and reused the 50 stored ones
        _store_run(store, "run-2", {"q8_0": _rows("q8_0", [True] * 10, subset="s1", start=50)}, metrics=[("q8_0", "s1", 60)])
    side = resolve("run-2", db)
    assert len(side.items) == 60
    with Store(db) as store:  # metrics claim more items than were ever stored: ambiguous
        _store_run(store, "run-3", {"q8_0": _rows("q8_0", [True] * 5, subset="s1", start=60)}, metrics=[("q8_0", "s1", 99)])
    with pytest.raises(ConfigError, match="run run-3 reused items of qa/s1 stored by earlier runs, and which ones is ambiguous"):
        resolve("run-3", db)


def test_baseline_file_round_trip_keeps_outcomes_cells_and_facts(db, tmp_path):
    side = resolve("run-1#smol@Q2_K", db)
    path = baseline_file.write(side, tmp_path / "b.json")
    doc = json.loads(path.read_text())
    assert doc["cell"]["peak_rss_bytes"] == 200_000_000 and doc["model"]["quant_type"] == "Q2_K"
    assert "path" not in doc["model"] and doc["suites"]["qa"]["mean_score"] == pytest.approx(0.3)
    again = resolve(str(path), db)
    assert again.items == side.items and again.cell == side.cell and again.source == "baseline file"
    assert gate(again, side, GateSettings()).passed


def test_bad_baseline_files_are_one_line_errors(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read baseline file"):
        resolve(str(bad), tmp_path / "db.duckdb")
    bad.write_text(json.dumps({"hello": 1}))
    with pytest.raises(ConfigError, match="is not an evalkit baseline file"):
        resolve(str(bad), tmp_path / "db.duckdb")
    bad.write_text(json.dumps({"format": "evalkit-baseline", "format_version": 99}))
    with pytest.raises(ConfigError, match="baseline format 99"):
        resolve(str(bad), tmp_path / "db.duckdb")


def test_model_that_crashed_before_any_item_is_a_regression(db):
    with Store(db) as store:  # the worker of a derived level died (e.g. SIGSEGV) before storing anything
        store.start_run("run-4", "evalkit run ...", {}, {"cpu": "c"}, "0")
        store.con.execute(
            "INSERT INTO cells (run_id, model_id, status, error, spec) VALUES (?, ?, 'failed', ?, ?)",
            ["run-4", "srcsha@Q4_0", "worker killed by signal 11 (SIGSEGV)", "smol@Q4_0"],
        )
        store.finish_run("run-4", "complete", [])
    cand = resolve("run-4#smol@Q4_0", db)
    assert cand.items == [] and cand.cell["status"] == "failed"
    rep = gate(resolve("run-1#smol@Q8_0", db), cand, GateSettings())
    assert not rep.passed and rep.suites[0].verdict == "not compared"
    assert "crashed after 0 of 50 items" in rep.suites[0].reason
    assert any(c.verdict == "fail" and "SIGSEGV" in c.reason for c in rep.checks)
