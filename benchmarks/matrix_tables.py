"""Markdown tables of a matrix run's cells and quantization ladder, from its DuckDB file.

    evalkit run -c examples/matrix.toml --data-dir /work/shared/data
    PYTHONPATH=. python benchmarks/matrix_tables.py results/matrix.duckdb > benchmarks/results/matrix_run.md
"""

from __future__ import annotations

import json
import sys

import duckdb


def main(db: str) -> None:
    con = duckdb.connect(db, read_only=True)
    run = con.execute("SELECT run_id, started_at, finished_at, status, command, host FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()
    host = json.loads(run[5])
    print(f"run {run[0]} ({run[3]}), {run[1]:%Y-%m-%d %H:%M}–{run[2]:%H:%M} UTC, `{run[4]}`")
    print(f"host: {host['cpu']}, {host['cores']} cores, {host['ram_bytes'] / 2**30:.0f} GiB, llama-cpp-python {host['llama_cpp_python']}\n")
    print("| model file | quant | bits/w | file MB | peak RSS MB | load s | pp512 tok/s | tg128 tok/s | TTFT ms p50 / p95 | suite pp tok/s | $/1M in | $/1M out | items | accuracy | $/1k items | $/correct |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows = con.execute(
        """SELECT c.spec, c.quant_type, m.bits_per_weight, m.file_size, c.peak_rss_bytes, c.load_seconds, c.pp_tps, c.tg_tps,
                  c.ttft_ms_median, c.ttft_ms_p95, c.suite_pp_tps, c.usd_per_mtok_in, c.usd_per_mtok_out, c.items, c.correct,
                  c.usd_per_1k_items, c.usd_per_correct, c.status
           FROM cells c JOIN models m USING (model_id) WHERE c.run_id = ? ORDER BY m.name, m.bits_per_weight DESC""",
        [run[0]],
    ).fetchall()
    for r in rows:
        acc = f"{100 * r[14] / r[13]:.1f}%" if r[13] else "–"  # over all of the cell's items
        print(f"| {r[0]} | {r[1]} | {r[2]:.2f} | {r[3] / 2**20:.1f} | {r[4] / 2**20:.0f} | {r[5]:.2f} | {r[6]:.1f} | {r[7]:.1f} | "
              f"{r[8]:.0f} / {r[9]:.0f} | {r[10]:.1f} | {r[11]:.3f} | {r[12]:.3f} | {r[13]} | {acc} | {r[15]:.4f} | "
              f"{'–' if r[16] is None else format(r[16], '.5f')} |")  # fmt: skip
    scores = con.execute(
        """SELECT c.spec, i.suite, count(*), avg(coalesce(i.score, CASE WHEN i.correct THEN 1.0 ELSE 0.0 END)),
                  count(i.error)
           FROM items i JOIN cells c ON c.run_id = i.run_id AND c.model_id = i.model_id JOIN models m ON m.model_id = i.model_id
           WHERE i.run_id = ? GROUP BY ALL ORDER BY min(m.name), min(m.bits_per_weight) DESC, i.suite""",
        [run[0]],
    ).fetchall()
    print("\n| model file | suite | items | score | item errors |")
    print("|---|---|---:|---:|---:|")
    for spec, suite, n, score, errors in scores:
        print(f"| {spec} | {suite} | {n} | {100 * score:.1f}% | {errors} |")
    print("\n| source | level | bits/w | KL-divergence | KL p99 | top-1 agreement | perplexity | ref. perplexity | scored tokens |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in con.execute(
        """SELECT s.name, l.quant_type, l.bits_per_weight, l.kl_divergence, l.kl_p99, l.top1_agreement, l.top1_agreement_ci,
                  l.perplexity, l.ref_perplexity, l.n_tokens
           FROM ladder l JOIN models s ON s.model_id = l.source_model_id ORDER BY s.name, l.bits_per_weight DESC"""
    ).fetchall():
        print(f"| {r[0]} | {r[1]} | {r[2]:.2f} | {r[3]:.4f} | {r[4]:.3f} | {100 * r[5]:.1f}% ± {100 * r[6]:.1f} | {r[7]:.2f} | {r[8]:.2f} | {r[9]} |")


if __name__ == "__main__":
    main(sys.argv[1])
