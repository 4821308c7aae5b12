"""A real matrix: both shipped models × derived quantization levels × an MMLU subset, each cell in its own
worker process, through `evalkit run -c`; then a worker killed mid-run and the re-run that completes it."""

from __future__ import annotations

import json

import pytest

from evalkit.cli import main
from evalkit.store import Store

pytestmark = [pytest.mark.model, pytest.mark.slow]

BENCH = """
[bench]
pp_tokens = 48
tg_tokens = 8
repetitions = 1
ttft_runs = 3
"""


def _write(tmp_path, data_dir, models: str, subsets: list[str], limit: int, extra: str = "") -> str:
    text = f"""
[run]
db = "results.duckdb"
data_dir = "{data_dir}"
threads = 1
{models}
[[suites]]
suite = "mmlu"
subsets = {json.dumps(subsets)}
limit = {limit}
shots = 0
{BENCH}
{extra}
"""
    path = tmp_path / "evalkit.toml"
    path.write_text(text)
    return str(path)


def _run(*args) -> int:
    try:
        main(["run", *args])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_matrix_of_both_models_and_levels_fills_every_cell_and_the_ladder(tmp_path, data_dir, capsys):
    models = """
[[models]]
model = "smollm2-135m"
quants = ["source", "Q8_0"]

[[models]]
model = "gemma3-270m"
quants = ["source", "Q4_0"]
"""
    path = _write(tmp_path, data_dir, models, ["high_school_geography"], 3, "[quality]\nn_ctx = 64\nmax_chunks = 2\n")
    assert _run("-c", path) == 0
    with Store(tmp_path / "results.duckdb", read_only=True) as store:
        cells = store.query("SELECT * FROM cells ORDER BY spec")
        assert sorted(cells.spec) == ["gemma3-270m", "gemma3-270m@Q4_0", "smollm2-135m", "smollm2-135m@Q8_0"]
        assert set(cells.status) == {"complete"} and cells.error.isna().all()
        for col in ("peak_rss_bytes", "load_seconds", "pp_tps", "tg_tps", "ttft_ms_median", "ttft_ms_p95",
                    "suite_pp_tps", "usd_per_mtok_in", "usd_per_mtok_out", "usd_per_1k_items", "threads", "cpu"):  # fmt: skip
            assert cells[col].notna().all(), col
        assert (cells.ttft_ms_p95 >= cells.ttft_ms_median).all() and (cells.threads == 1).all()
        assert (cells["items"] == 3).all() and (cells.tokens_in > 0).all()
        # peak RSS covers the loaded model file: each worker holds more than its model's size
        sizes = store.query("SELECT model_id, file_size FROM models")
        merged = cells.merge(sizes, on="model_id")
        assert (merged.peak_rss_bytes > merged.file_size).all()
        assert len({json.loads(d)["worker_pid"] for d in cells.details}) == 4  # one process per model file
        # quantization levels: derived from their source, recorded with type and provenance
        q = store.query("SELECT q.*, m.quant_type AS file_quant FROM quantizations q JOIN models m USING (model_id)")
        assert sorted(q.quant_type) == ["Q4_0", "Q8_0"] and (q.quant_type == q.file_quant).all()
        # ladder: one row per level and source, the source being the reference
        ladder = store.query("SELECT * FROM ladder")
        assert len(ladder) == 4 and set(ladder.source_model_id) == set(q.source_model_id)
        src = ladder[ladder.model_id == ladder.source_model_id]
        lvl = ladder[ladder.model_id != ladder.source_model_id]
        assert (src.kl_divergence == 0).all() and (src.top1_agreement == 1).all()
        assert (lvl.kl_divergence > 0).all() and lvl.top1_agreement.between(0, 1).all()
        assert (ladder.perplexity > 1).all() and (ladder.n_tokens == 2 * 31).all()
        metrics = store.query("SELECT * FROM metrics WHERE subset = 'high_school_geography'")
        assert len(metrics) == 4 and metrics.value.between(0, 1).all()
        assert store.query("SELECT count(*) AS n FROM reference_points").n[0] >= 5
    capsys.readouterr()
    main(["results", "--db", str(tmp_path / "results.duckdb")])
    out = capsys.readouterr().out
    assert "RAM MB" in out and "Q4_0" in out and "Q8_0" in out and "published reference points" in out
    main(["results", "--db", str(tmp_path / "results.duckdb"), "--format", "json"])
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 4 and all(r["peak_rss_bytes"] and r["pp_tps"] and r["usd_per_1k_items"] for r in rows)
    assert not any("GPT-4" in r["model"] for r in rows)  # published points never mix with measured rows


def test_killed_worker_leaves_a_failed_cell_and_a_rerun_completes_only_it(tmp_path, data_dir, monkeypatch):
    models = '[[models]]\nmodel = "smollm2-135m"\nquants = ["source", "Q8_0"]\n'
    path = _write(tmp_path, data_dir, models, ["high_school_geography", "world_religions"], 3, "[quality]\nenabled = false\n")
    db = tmp_path / "results.duckdb"
    monkeypatch.setenv("EVALKIT_WORKER_KILL", "smollm2-135m@Q8_0:3")  # SIGKILL after the first subset's batch
    assert _run("-c", path) == 1
    with Store(db, read_only=True) as store:
        run1 = store.query("SELECT run_id, status FROM runs").iloc[0]
        cells = store.query("SELECT spec, status, error FROM cells").set_index("spec")
        assert run1.status == "partial"
        assert cells.status["smollm2-135m"] == "complete"
        assert cells.status["smollm2-135m@Q8_0"] == "failed"
        assert "killed by signal 9 (SIGKILL" in cells.error["smollm2-135m@Q8_0"]
        before = store.query("SELECT i.eval_key, i.created_at, c.spec FROM items i JOIN cells c USING (run_id, model_id)")
        assert (before.spec == "smollm2-135m").sum() == 6 and (before.spec == "smollm2-135m@Q8_0").sum() == 3

    monkeypatch.delenv("EVALKIT_WORKER_KILL")
    assert _run("-c", path) == 0
    with Store(db, read_only=True) as store:
        runs = store.query("SELECT run_id, status FROM runs ORDER BY started_at")
        assert list(runs.status) == ["partial", "complete"]
        run2 = runs.run_id.iloc[1]
        cells2 = store.query("SELECT spec, status FROM cells WHERE run_id = ?", [run2])
        assert list(cells2.spec) == ["smollm2-135m@Q8_0"] and list(cells2.status) == ["complete"]  # the other: reused
        items = store.query("SELECT i.eval_key, i.created_at, i.run_id, m.spec FROM items i JOIN models m USING (model_id)")
        assert len(items) == 12 and items.eval_key.is_unique
        assert (items[items.run_id == run2].spec == "smollm2-135m@Q8_0").sum() == 3  # only the missing ones
        kept = before.merge(items, on="eval_key", suffixes=("_1", "_2"))
        assert len(kept) == 9 and (kept.created_at_1 == kept.created_at_2).all()  # nothing redone
        m = store.query("SELECT subset FROM metrics WHERE run_id = ? AND subset != 'all'", [run2])
        assert sorted(m.subset) == ["high_school_geography", "high_school_geography", "world_religions", "world_religions"]
