"""Everything the site shows, read from a results database in one read-only pass.

Tables written by later migrations (cells, ladder, reference_points) may be missing or empty: each
reader returns an empty list then, and the pages say "no data yet".
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from evalkit.errors import ConfigError
from evalkit.leaderboard import LATEST_ITEMS
from evalkit.metrics import Z95, wilson_interval
from evalkit.site.fmt import slug

JSON_COLUMNS = {"config", "host", "warnings", "details", "metadata"}


@dataclass
class SiteData:
    """The rows every page is built from (lists of plain dicts)."""

    db_name: str
    tables: set[str]
    models: list[dict] = field(default_factory=list)
    runs: list[dict] = field(default_factory=list)
    cells: list[dict] = field(default_factory=list)
    subset_scores: list[dict] = field(default_factory=list)
    suite_scores: list[dict] = field(default_factory=list)
    metrics: list[dict] = field(default_factory=list)
    ladder: list[dict] = field(default_factory=list)
    references: list[dict] = field(default_factory=list)
    run_items: list[dict] = field(default_factory=list)  # run × model × suite: item counts
    confusion: list[dict] = field(default_factory=list)  # classification: run × model × suite × subset × gold × predicted

    @property
    def model_by_id(self) -> dict[str, dict]:
        return {m["model_id"]: m for m in self.models}

    @property
    def suites(self) -> list[str]:
        return sorted({s["suite"] for s in self.suite_scores})


def open_db(path: str | Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection, or a one-line ConfigError saying what is wrong and what to do."""
    from evalkit.store import Store

    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path} is a folder, not a results database. Pass --db with a .duckdb file.")
    con = Store(path, read_only=True).con  # raises ConfigError for missing / locked / non-DuckDB files
    con.execute("SET enable_progress_bar = false")  # a build prints one summary line, not DuckDB's progress bars
    tables = _tables(con)
    if "items" not in tables or "runs" not in tables:
        con.close()
        raise ConfigError(f"{path} is a DuckDB file but not an evalkit results database (no items table). Pass --db with one written by 'evalkit run'.")
    return con


def _tables(con) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}


def _rows(con, sql: str, params: list | None = None) -> list[dict]:
    cur = con.execute(sql, params or [])
    cols = [d[0] for d in cur.description]
    out = []
    for row in cur.fetchall():
        rec = dict(zip(cols, row))
        for key in JSON_COLUMNS & rec.keys():
            rec[key] = _load_json(rec[key])
        out.append(rec)
    return out


def _load_json(value):
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def load(con, db_name: str) -> SiteData:
    """Read every table the site needs."""
    tables = _tables(con)
    data = SiteData(db_name=db_name, tables=tables)
    data.runs = _rows(con, "SELECT * FROM runs ORDER BY started_at DESC")
    data.ladder = _rows(con, "SELECT * FROM ladder ORDER BY source_model_id, bits_per_weight DESC") if "ladder" in tables else []
    derived = _rows(con, "SELECT model_id, source_model_id FROM quantizations") if "quantizations" in tables else []
    data.models = _models(con, data.ladder + derived)
    data.cells = _rows(con, "SELECT * FROM cells ORDER BY coalesce(finished_at, started_at) DESC NULLS LAST") if "cells" in tables else []
    data.metrics = _rows(con, "SELECT * FROM metrics ORDER BY run_id, model_id, suite, subset, metric")
    data.references = _references(con) if "reference_points" in tables else []
    data.subset_scores, data.suite_scores = _scores(con)
    data.confusion = _rows(con, "SELECT * FROM confusion") if "confusion" in tables else []
    data.run_items = _rows(
        con,
        "SELECT run_id, model_id, suite, count(*) AS n, count(*) FILTER (WHERE correct) AS n_correct, "
        "count(error) AS n_errors, list(DISTINCT subset ORDER BY subset) AS subsets "
        "FROM items GROUP BY ALL ORDER BY run_id, model_id, suite",
    )
    return data


def _models(con, derivations: list[dict]) -> list[dict]:
    """Models with a display label, a file-name slug and a family (derived levels join their source's)."""
    models = _rows(con, "SELECT * FROM models ORDER BY name, bits_per_weight DESC NULLS LAST")
    source_of = {r["model_id"]: r["source_model_id"] for r in derivations}
    by_id = {m["model_id"]: m for m in models}
    for m in models:
        meta = m.get("metadata") if isinstance(m.get("metadata"), dict) else {}
        m["gguf_name"] = meta.get("name")
        m["slug"] = slug(m["model_id"][:16])
        quant = m.get("quant_type") or ""
        m["label"] = m["name"] if not quant or quant.lower() in (m["name"] or "").lower() else f"{m['name']} · {quant}"
        src = source_of.get(m["model_id"])
        if src and src in by_id:
            m["family_key"] = _family_key(by_id[src])
        else:
            m["family_key"] = _family_key(m)
    _family_labels(models)
    return models


def _family_key(m: dict) -> str:
    """Models of one family share architecture and parameter count (quantization levels of one model)."""
    if m.get("architecture") and m.get("n_params"):
        return f"{m['architecture']}|{m['n_params']}"
    return m["model_id"]


def _family_labels(models: list[dict]) -> None:
    groups: dict[str, list[dict]] = {}
    for m in models:
        groups.setdefault(m["family_key"], []).append(m)
    for members in groups.values():
        label = family_name([m["name"] or m["model_id"][:12] for m in members])
        for m in members:
            m["family"] = label


def family_name(names: list[str]) -> str:
    """What the quantization levels of one model have in common: 'smollm2-135m' for
    ['smollm2-135m', 'SmolLM2-135M-Instruct.Q4_0'] (case-insensitive common prefix, quant suffix dropped)."""
    shortest = min(names, key=len)
    if len(names) == 1:
        return shortest
    n = len(os.path.commonprefix([x.lower() for x in names]))
    prefix = re.sub(r"([-_. ]+[qQ]\d*(_[kK])?)?[-_. ]*$", "", shortest[:n])
    return prefix if len(prefix) >= 3 else shortest


def _references(con) -> list[dict]:
    rows = _rows(con, "SELECT * FROM reference_points ORDER BY suite, value DESC")
    for r in rows:
        r["value_raw"] = r["value"]
        # Published scores are often quoted in percent (86.4); the site works in fractions (0.864).
        if r["value"] is not None and 1.0 < r["value"] <= 100.0:
            r["value"] = r["value"] / 100.0
        r["usd_blended"] = blended_price(r.get("usd_per_mtok_in"), r.get("usd_per_mtok_out"))
    return rows


def blended_price(usd_in, usd_out) -> float | None:
    """$ per 1M tokens at 3 input tokens per output token (the common 3:1 blend)."""
    have_in, have_out = usd_in is not None, usd_out is not None
    if have_in and have_out:
        return (3 * usd_in + usd_out) / 4
    return usd_in if have_in else usd_out if have_out else None


SCORES_SQL = f"""
    WITH latest AS ({LATEST_ITEMS}),
    v AS (
        SELECT model_id, suite, subset,
               coalesce(score, CASE WHEN correct THEN 1.0 WHEN NOT correct THEN 0.0 END) AS v
        FROM latest
    )
    SELECT model_id, suite, subset, grouping(subset) AS is_total, count(v) AS n, avg(v) AS mean,
           stddev_samp(v) AS sd, min(v) AS lo, max(v) AS hi, bool_and(v IN (0, 1)) AS is_binary,
           count(DISTINCT subset) AS n_subsets
    FROM v WHERE v IS NOT NULL
    GROUP BY GROUPING SETS ((model_id, suite, subset), (model_id, suite))
    ORDER BY model_id, suite, subset
"""


def _scores(con) -> tuple[list[dict], list[dict]]:
    """Mean item score with a 95% CI per model × suite × subset and per model × suite (latest result per item)."""
    subsets, suites = [], []
    for r in _rows(con, SCORES_SQL):
        r["ci_low"], r["ci_high"] = interval(r)
        (suites if r["is_total"] else subsets).append(r)
    return subsets, suites


def interval(r: dict) -> tuple[float, float]:
    """Wilson interval for 0/1 scores, else mean ± 1.96·sd/√n (clipped to [0, 1] for scores in that range)."""
    n, mean = int(r["n"]), r["mean"]
    if n == 0 or mean is None:
        return (math.nan, math.nan)
    if r["is_binary"]:
        return wilson_interval(round(mean * n), n)
    half = Z95 * (r["sd"] or 0.0) / math.sqrt(n) if n > 1 else math.nan
    low, high = mean - half, mean + half
    if r["lo"] >= 0 and r["hi"] <= 1:
        low, high = max(0.0, low), min(1.0, high)
    return (low, high)


def combined_mean(values: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    """Unweighted mean of suite scores, CI from their standard errors (independent suites assumed)."""
    if not values:
        return (math.nan, math.nan, math.nan)
    k = len(values)
    mean = sum(v for v, _, _ in values) / k
    ses = [(hi - lo) / (2 * Z95) for _, lo, hi in values if not (math.isnan(lo) or math.isnan(hi))]
    if len(ses) < k:
        return (mean, math.nan, math.nan)
    half = Z95 * math.sqrt(sum(se * se for se in ses)) / k
    return (mean, max(0.0, mean - half) if mean >= 0 else mean - half, mean + half)
