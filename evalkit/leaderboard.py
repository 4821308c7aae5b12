"""Leaderboard queries over the results store (latest result per item and model)."""

from __future__ import annotations

import pandas as pd

from evalkit.metrics import wilson_interval
from evalkit.store import Store

LATEST_ITEMS = """
    SELECT * FROM items WHERE error IS NULL
    QUALIFY row_number() OVER (PARTITION BY eval_key ORDER BY created_at DESC) = 1
"""


def leaderboard(store: Store) -> pd.DataFrame:
    """One row per model × suite: items, accuracy with 95% CI, degenerate flags."""
    df = store.query(
        f"""
        WITH latest AS ({LATEST_ITEMS})
        SELECT m.name AS model, m.quant_type AS quant, m.file_size, l.suite, l.suite_version,
               count(*) AS n, sum(CASE WHEN l.correct THEN 1 ELSE 0 END) AS k, avg(l.score) AS mean_score
        FROM latest l JOIN models m USING (model_id)
        GROUP BY ALL ORDER BY model, suite
        """
    )
    flags = store.query(
        "SELECT m.name AS model, suite, list_distinct(flatten(list(flags))) AS flags "
        "FROM metrics JOIN models m USING (model_id) GROUP BY ALL"
    )
    if df.empty:
        return df
    df["accuracy"] = df["k"] / df["n"]
    ci = [wilson_interval(int(k), int(n)) for k, n in zip(df["k"], df["n"])]
    df["ci_low"] = [c[0] for c in ci]
    df["ci_high"] = [c[1] for c in ci]
    df = df.merge(flags, on=["model", "suite"], how="left")
    return df


CELL_MEASURES = ("peak_rss_bytes", "load_seconds", "pp_tps", "tg_tps", "ttft_ms_median", "ttft_ms_p95", "suite_pp_tps",
                 "suite_tg_tps", "usd_per_mtok_in", "usd_per_mtok_out", "threads")  # fmt: skip


def cell_measures(store: Store) -> pd.DataFrame:
    """Per model file: the latest value of each measurement from complete cells, and the latest cell's status."""
    latest = ", ".join(f"arg_max({c}, finished_at) FILTER (WHERE status = 'complete' AND {c} IS NOT NULL) AS {c}"
                       for c in CELL_MEASURES)  # fmt: skip
    return store.query(
        f"""
        SELECT model_id, {latest}, arg_max(status, finished_at) AS cell_status, arg_max(error, finished_at) AS cell_error,
               arg_max(spec, finished_at) AS spec
        FROM cells GROUP BY model_id
        """
    )


def matrix(store: Store) -> pd.DataFrame:
    """One row per model file × suite: score with 95% CI, and the file's measured RAM, speed, latency and cost.

    A superset of :func:`leaderboard`'s columns. $ per 1,000 items and per correct answer use the suite's
    own mean tokens per item at the file's $/1M token rates. Published reference points are not here
    (see evalkit.references); measured and published figures are never mixed.
    """
    df = store.query(
        f"""
        WITH latest AS ({LATEST_ITEMS})
        SELECT m.model_id, m.name AS model, m.quant_type AS quant, m.file_size, m.n_params, m.bits_per_weight,
               l.suite, l.suite_version, count(*) AS n, sum(CASE WHEN l.correct THEN 1 ELSE 0 END) AS k,
               avg(coalesce(l.score, CASE WHEN l.correct THEN 1.0 ELSE 0.0 END)) AS mean_score,
               avg(coalesce(l.prompt_tokens, 0)) AS tokens_in_per_item, avg(coalesce(l.completion_tokens, 0)) AS tokens_out_per_item
        FROM latest l JOIN models m USING (model_id)
        GROUP BY ALL ORDER BY model, bits_per_weight DESC, suite
        """
    )
    if df.empty:
        return df
    flags = store.query(
        "SELECT model_id, suite, list_distinct(flatten(list(flags))) AS flags FROM metrics GROUP BY ALL"
    )
    df["accuracy"] = df["k"] / df["n"]
    ci = [wilson_interval(int(k), int(n)) for k, n in zip(df["k"], df["n"])]
    df["ci_low"] = [c[0] for c in ci]
    df["ci_high"] = [c[1] for c in ci]
    df = df.merge(flags, on=["model_id", "suite"], how="left").merge(cell_measures(store), on="model_id", how="left")
    per_item = df["tokens_in_per_item"] * df["usd_per_mtok_in"] / 1e6 + (
        df["tokens_out_per_item"] * df["usd_per_mtok_out"].fillna(0) / 1e6
    )
    df["usd_per_1k_items"] = per_item * 1000
    df["usd_per_correct"] = per_item / df["mean_score"].where(df["mean_score"] > 0)
    return df
