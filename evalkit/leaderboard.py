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
