"""Append-only, numbered schema migrations for the results database.

Never edit a migration that has shipped: add a new one. Applied names are
recorded in ``_evalkit_migrations``.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

Migration = Callable[[duckdb.DuckDBPyConnection], None]
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append((fn.__name__, fn))
    return fn


@migration
def m001_initial(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        CREATE TABLE runs (
            run_id VARCHAR PRIMARY KEY,
            started_at TIMESTAMP NOT NULL,
            finished_at TIMESTAMP,
            status VARCHAR NOT NULL,          -- running | complete | interrupted | failed
            evalkit_version VARCHAR,
            command VARCHAR,
            config JSON,
            host JSON,
            warnings JSON
        )"""
    )
    con.execute(
        """
        CREATE TABLE models (
            model_id VARCHAR PRIMARY KEY,     -- sha256 of the GGUF file
            spec VARCHAR,
            name VARCHAR,
            path VARCHAR,
            file_size BIGINT,
            quant_type VARCHAR,
            n_params BIGINT,
            bits_per_weight DOUBLE,
            context_length INTEGER,
            architecture VARCHAR,
            metadata JSON
        )"""
    )
    con.execute(
        """
        CREATE TABLE items (
            run_id VARCHAR NOT NULL,
            model_id VARCHAR NOT NULL,
            eval_key VARCHAR NOT NULL,        -- hash(model, backend config, suite, version, subset, item, prompt)
            suite VARCHAR NOT NULL,
            suite_version VARCHAR NOT NULL,
            suite_hash VARCHAR,
            subset VARCHAR NOT NULL,
            item_id VARCHAR NOT NULL,
            prompt_hash VARCHAR NOT NULL,
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            prediction VARCHAR,
            target VARCHAR,
            correct BOOLEAN,
            score DOUBLE,
            choices VARCHAR[],
            probs DOUBLE[],
            logprobs DOUBLE[],
            output VARCHAR,
            details JSON,
            latency_ms DOUBLE,
            error VARCHAR,
            created_at TIMESTAMP NOT NULL
        )"""
    )
    con.execute("CREATE INDEX items_eval_key ON items(eval_key)")
    con.execute(
        """
        CREATE TABLE metrics (
            run_id VARCHAR NOT NULL,
            model_id VARCHAR NOT NULL,
            suite VARCHAR NOT NULL,
            suite_version VARCHAR NOT NULL,
            subset VARCHAR NOT NULL,          -- a subset name, or 'all'
            metric VARCHAR NOT NULL,
            value DOUBLE,
            ci_low DOUBLE,
            ci_high DOUBLE,
            n INTEGER,
            flags VARCHAR[]
        )"""
    )


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply every migration not yet recorded; return the names applied."""
    con.execute("CREATE TABLE IF NOT EXISTS _evalkit_migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMP)")
    done = {row[0] for row in con.execute("SELECT name FROM _evalkit_migrations").fetchall()}
    applied = []
    for name, fn in MIGRATIONS:
        if name in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            fn(con)
            con.execute("INSERT INTO _evalkit_migrations VALUES (?, now())", [name])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied


@migration
def m002_cells_ladder_references(con: duckdb.DuckDBPyConnection) -> None:
    """Per-cell measurements (model × run), quantization ladders, and published reference scores."""
    con.execute(
        """
        CREATE TABLE cells (
            run_id VARCHAR NOT NULL,
            model_id VARCHAR NOT NULL,
            status VARCHAR NOT NULL,          -- complete | failed | interrupted
            error VARCHAR,                    -- why a failed cell failed (signal, OOM, exception)
            backend VARCHAR,
            threads INTEGER,
            cpu VARCHAR,
            peak_rss_bytes BIGINT,            -- peak resident memory of the worker process
            load_seconds DOUBLE,
            pp_tps DOUBLE,                    -- prompt processing tokens/s, micro-benchmark (pp512)
            tg_tps DOUBLE,                    -- generation tokens/s, micro-benchmark (tg128)
            ttft_ms_median DOUBLE,
            ttft_ms_p95 DOUBLE,
            suite_pp_tps DOUBLE,              -- observed during the suites
            suite_tg_tps DOUBLE,
            usd_per_mtok_in DOUBLE,
            usd_per_mtok_out DOUBLE,
            started_at TIMESTAMP,
            finished_at TIMESTAMP,
            details JSON
        )"""
    )
    con.execute(
        """
        CREATE TABLE ladder (
            source_model_id VARCHAR NOT NULL, -- the highest-precision model of the ladder
            model_id VARCHAR NOT NULL,
            quant_type VARCHAR,
            bits_per_weight DOUBLE,
            kl_divergence DOUBLE,             -- mean KL(P_ref || P_quant) of next-token distributions
            top1_agreement DOUBLE,            -- share of positions where the argmax token agrees
            perplexity DOUBLE,
            n_tokens INTEGER,
            text_hash VARCHAR,
            created_at TIMESTAMP
        )"""
    )
    con.execute(
        """
        CREATE TABLE reference_points (
            ref_id VARCHAR PRIMARY KEY,
            model VARCHAR NOT NULL,           -- e.g. 'GPT-4 (2023-03)'
            suite VARCHAR NOT NULL,
            subset VARCHAR NOT NULL,
            metric VARCHAR NOT NULL,
            value DOUBLE NOT NULL,
            shots INTEGER,
            usd_per_mtok_in DOUBLE,
            usd_per_mtok_out DOUBLE,
            source VARCHAR NOT NULL,          -- citation
            source_url VARCHAR,
            published VARCHAR,
            file_version VARCHAR
        )"""
    )


@migration
def m003_matrix(con: duckdb.DuckDBPyConnection) -> None:
    """Matrix cells get their label, quantization, item/cost totals; ladders their settings; derived files a table."""
    for column, kind in [
        ("spec", "VARCHAR"),                  # the model spec as written, e.g. 'smollm2-135m@Q8_0'
        ("quant_type", "VARCHAR"),
        ("source_model_id", "VARCHAR"),       # for a derived quantization level: the file it came from
        ("items", "INTEGER"),                 # items of the cell's suites (latest stored result per item)
        ("correct", "INTEGER"),
        ("tokens_in", "BIGINT"),
        ("tokens_out", "BIGINT"),
        ("usd_per_1k_items", "DOUBLE"),
        ("usd_per_correct", "DOUBLE"),
    ]:
        con.execute(f"ALTER TABLE cells ADD COLUMN {column} {kind}")
    for column, kind in [
        ("n_ctx", "INTEGER"),                 # tokens per chunk (perplexity scores its second half)
        ("n_chunks", "INTEGER"),
        ("kl_p99", "DOUBLE"),
        ("top1_agreement_ci", "DOUBLE"),      # half-width of the 95% interval of top1_agreement
        ("ref_perplexity", "DOUBLE"),
        ("details", "JSON"),
    ]:
        con.execute(f"ALTER TABLE ladder ADD COLUMN {column} {kind}")
    con.execute(
        """
        CREATE TABLE quantizations (
            model_id VARCHAR PRIMARY KEY,     -- sha256 of the derived file
            source_model_id VARCHAR NOT NULL,
            quant_type VARCHAR NOT NULL,
            path VARCHAR,
            llama_cpp_version VARCHAR,
            created_at TIMESTAMP
        )"""
    )


@migration
def m004_metric_details_confusion(con: duckdb.DuckDBPyConnection) -> None:
    """Details of a metric (per-label F1, entity counts) and confusion matrices of classification suites."""
    con.execute("ALTER TABLE metrics ADD COLUMN details JSON")
    con.execute(
        """
        CREATE TABLE confusion (
            run_id VARCHAR NOT NULL,
            model_id VARCHAR NOT NULL,
            suite VARCHAR NOT NULL,
            suite_version VARCHAR NOT NULL,
            subset VARCHAR NOT NULL,
            gold VARCHAR NOT NULL,            -- the gold label
            predicted VARCHAR NOT NULL,       -- the predicted label, '<none>' when no label was found
            n INTEGER NOT NULL
        )"""
    )
