"""SYNTHETIC results database for timing `evalkit site build` (benchmarks only, never for published results).

Every model, run, item, measurement and reference row written here is invented: model names start with
"synthetic-", run commands say "SYNTHETIC", and reference sources say "synthetic". The scores follow a
simple made-up model (bigger and less quantized = better; more reasoning steps or longer context = worse)
so that every chart of the site has a realistic shape to draw.

    python benchmarks/site_synth.py OUT.duckdb [--runs 200] [--items 500000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

FAMILIES = [("synthetic-tiny-135m", 135e6, "llama"), ("synthetic-small-360m", 360e6, "llama"),
            ("synthetic-mid-1.7b", 1.7e9, "qwen2"), ("synthetic-big-7b", 7e9, "qwen2")]  # fmt: skip
QUANTS = [("Q8_0", 8.5), ("Q6_K", 6.56), ("Q5_K_M", 5.69), ("Q4_K_M", 4.85), ("Q2_K", 2.96)]
MMLU_SUBJECTS = 57
SUITE_PLAN = [  # suite, subsets, items per subset and run-model block
    ("mmlu", [f"subject_{i:02d}" for i in range(MMLU_SUBJECTS)], 10),
    ("reasoning_steps", [f"steps_{i:02d}" for i in range(1, 13)], 20),
    ("docs_extract", [f"ctx_{n}" for n in (256, 512, 1024, 2048, 4096, 8192)], 35),
    ("ag_news", ["default"], 240),
]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _models() -> list[dict]:
    out = []
    for f, (fam, n_params, arch) in enumerate(FAMILIES):
        for q, (quant, bpw) in enumerate(QUANTS):
            out.append({
                "model_id": _sha(f"{fam}-{quant}"), "name": f"{fam}-{quant.lower()}", "quant_type": quant,
                "n_params": int(n_params), "bits_per_weight": bpw, "file_size": int(n_params * bpw / 8),
                "architecture": arch, "skill": 0.30 + 0.15 * f - 0.012 * (8.5 - bpw) ** 1.6, "f": f, "q": q,
            })  # fmt: skip
    return out


def _block_rows() -> list[tuple[str, str, int]]:
    """(suite, subset, item number) for one run × model block."""
    return [(suite, sub, k) for suite, subs, n in SUITE_PLAN for sub in subs for k in range(n)]


def make_db(path: Path, runs: int = 200, items: int = 500_000) -> dict:
    from evalkit.store import Store

    path.unlink(missing_ok=True)
    models = _models()
    block = _block_rows()
    blocks = max(1, -(-items // len(block)))
    per_run = max(1, -(-blocks // runs))
    with Store(path) as store:
        con = store.con
        for m in models:
            store.upsert_model(m["model_id"], m["name"], m["name"], {
                "file_size": m["file_size"], "quant_type": m["quant_type"], "n_params": m["n_params"],
                "bits_per_weight": m["bits_per_weight"], "context_length": 8192, "architecture": m["architecture"],
                "name": m["name"].rsplit("-", 1)[0] + " (synthetic)"})  # fmt: skip
        con.execute("CREATE TEMP TABLE block (pos INTEGER, suite VARCHAR, subset VARCHAR, k INTEGER, difficulty DOUBLE)")
        con.executemany("INSERT INTO block VALUES (?, ?, ?, ?, ?)", [[i, s, sub, k, _difficulty(sub)] for i, (s, sub, k) in enumerate(block)])
        con.execute("CREATE TEMP TABLE mdl (idx INTEGER, model_id VARCHAR, skill DOUBLE)")
        con.executemany("INSERT INTO mdl VALUES (?, ?, ?)", [[i, m["model_id"], m["skill"]] for i, m in enumerate(models)])
        run_ids = [f"synthetic-{r:04d}" for r in range(runs)]
        _runs(con, run_ids)
        _cells(con, run_ids, models, per_run)
        _items(con, blocks, per_run, len(block), len(models))
        _metrics(con)
        _ladder(con, models)
        _references(con)
        n = con.execute("SELECT count(*) FROM items").fetchone()[0]
    return {"runs": runs, "items": n, "models": len(models)}


def _difficulty(subset: str) -> float:
    if subset.startswith("steps_"):
        return 0.06 * int(subset[6:])
    if subset.startswith("ctx_"):
        return 0.05 * (int(subset[4:]).bit_length() - 8)
    if subset.startswith("subject_"):
        return (int(subset[8:]) * 37 % 57) / 57 * 0.35 - 0.1
    return -0.2


def _runs(con, run_ids: list[str]) -> None:
    host = json.dumps({"cpu": "SYNTHETIC CPU", "cores": 8, "ram_bytes": 32_000_000_000, "os": "Linux (synthetic)",
                       "machine": "x86_64", "python": "3.11", "llama_cpp_python": "0.3.36", "evalkit": "0.1.0", "duckdb": "x"})  # fmt: skip
    con.executemany(
        "INSERT INTO runs (run_id, started_at, finished_at, status, evalkit_version, command, config, host, warnings) "
        "VALUES (?, TIMESTAMP '2026-01-01' + INTERVAL (?) HOUR, TIMESTAMP '2026-01-01' + INTERVAL (?) HOUR + INTERVAL 40 MINUTE, "
        "'complete', '0.1.0', 'SYNTHETIC benchmark data', '{\"synthetic\": true}', ?, '[]')",
        [[rid, i, i, host] for i, rid in enumerate(run_ids)],
    )


def _cells(con, run_ids, models, per_run) -> None:
    rows = []
    for r, rid in enumerate(run_ids):
        for b in range(per_run):
            m = models[(r * per_run + b) % len(models)]
            tg = 900e6 / (m["file_size"] + 50e6) * (1 + 0.03 * ((r * 7) % 5 - 2))
            pp = tg * 12
            usd_in, usd_out = 0.20 / pp * 1e3, 0.20 / tg * 1e3
            rows.append([rid, m["model_id"], "complete", None, "llamacpp", 8, "SYNTHETIC CPU", int(m["file_size"] * 1.15 + 120e6),
                         0.5 + m["file_size"] / 1e9, pp, tg, 2000 / pp * 40, 2600 / pp * 40, pp * 0.9, tg * 0.95, usd_in, usd_out,
                         json.dumps({"synthetic": True, "cost": {"note": "SYNTHETIC cost profile", "usd_per_hour": 0.2}})])  # fmt: skip
    con.executemany(
        "INSERT INTO cells (run_id, model_id, status, error, backend, threads, cpu, peak_rss_bytes, load_seconds, pp_tps, tg_tps, "
        "ttft_ms_median, ttft_ms_p95, suite_pp_tps, suite_tg_tps, usd_per_mtok_in, usd_per_mtok_out, details) VALUES "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def _items(con, blocks: int, per_run: int, block_len: int, n_models: int) -> None:
    """Block b = one run × model: run b // per_run, model b % n_models; rows generated in SQL."""
    from evalkit.store import ITEM_COLUMNS

    con.execute(
        f"""
        INSERT INTO items ({", ".join(ITEM_COLUMNS)})
        WITH g AS (
            SELECT b.range AS blk, k.pos, k.suite, k.subset, k.k, k.difficulty
            FROM range({blocks}) b CROSS JOIN block k
        ), x AS (
            SELECT g.*, printf('synthetic-%04d', blk // {per_run}) AS run_id, m.model_id, m.skill,
                   (hash(blk, pos) % 10000) / 10000.0 AS u
            FROM g JOIN mdl m ON m.idx = blk % {n_models}
        )
        SELECT run_id, model_id, md5(model_id || suite || subset || k::VARCHAR) AS eval_key, suite, '1', 'synthetic',
               subset, subset || '/' || k AS item_id, md5(suite || subset || k::VARCHAR) AS prompt_hash,
               300 + k % 200, CASE WHEN suite = 'mmlu' THEN NULL ELSE 40 + k % 60 END,
               CASE WHEN u < skill - difficulty THEN 'A' ELSE 'B' END AS prediction, 'A' AS target,
               u < skill - difficulty AS correct, CASE WHEN u < skill - difficulty THEN 1.0 ELSE 0.0 END AS score,
               CASE WHEN suite = 'mmlu' THEN ['A', 'B', 'C', 'D'] END,
               CASE WHEN suite = 'mmlu' THEN [0.4, 0.3, 0.2, 0.1] END, NULL,
               CASE WHEN suite = 'mmlu' THEN NULL ELSE
                 'SYNTHETIC output for ' || subset || ' item ' || k || ': the model reasons step by step, then answers A. ' ||
                 repeat('Filler text of a plausible length. ', 4) END AS output,
               json_object('synthetic', true, 'prompt', 'SYNTHETIC prompt ' || subset || ' #' || k || ': ' ||
                 repeat('question text ', 12)) AS details,
               50 + u * 200, NULL, TIMESTAMP '2026-01-01' + to_hours(blk // {per_run}) + to_microseconds(pos::BIGINT)
        FROM x
        """
    )


def _metrics(con) -> None:
    con.execute(
        """
        INSERT INTO metrics (run_id, model_id, suite, suite_version, subset, metric, value, ci_low, ci_high, n, flags)
        SELECT run_id, model_id, suite, '1', subset, 'accuracy', avg(score), NULL, NULL, count(*), []::VARCHAR[]
        FROM items GROUP BY ALL
        """
    )


def _ladder(con, models) -> None:
    rows = []
    for m in models:
        src = next(x for x in models if x["f"] == m["f"] and x["q"] == 0)
        kl = 0.0 if m is src else 0.002 * (8.5 - m["bits_per_weight"]) ** 2.2
        rows.append([src["model_id"], m["model_id"], m["quant_type"], m["bits_per_weight"], kl, 1 - kl * 2.5, 12.0 * (1 + kl), 4096, "synthetic"])
    con.executemany(
        "INSERT INTO ladder (source_model_id, model_id, quant_type, bits_per_weight, kl_divergence, top1_agreement, "
        "perplexity, n_tokens, text_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
        rows,
    )


def _references(con) -> None:
    rows = [
        ["syn-ref-1", "Synthetic Frontier A (synthetic)", "mmlu", "all", "accuracy", 86.4, 5, 30.0, 60.0, "synthetic reference, not a publication", None],
        ["syn-ref-2", "Synthetic Frontier B (synthetic)", "mmlu", "all", "accuracy", 0.70, 5, 0.5, 1.5, "synthetic reference, not a publication", None],
        ["syn-ref-3", "Synthetic Frontier B (synthetic)", "ag_news", "default", "accuracy", 0.91, 0, 0.5, 1.5, "synthetic reference, not a publication", None],
    ]  # fmt: skip
    con.executemany(
        "INSERT INTO reference_points (ref_id, model, suite, subset, metric, value, shots, usd_per_mtok_in, usd_per_mtok_out, source, source_url) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--items", type=int, default=500_000)
    args = ap.parse_args()
    t = time.perf_counter()
    info = make_db(args.out, args.runs, args.items)
    print(f"SYNTHETIC database {args.out}: {info} in {time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()
