"""The DuckDB results store: runs, models, items (one row per evaluated item) and metrics."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from evalkit.errors import ConfigError
from evalkit.migrations import apply_migrations

DEFAULT_DB = Path("results") / "evalkit.duckdb"

ITEM_COLUMNS = (
    "run_id model_id eval_key suite suite_version suite_hash subset item_id prompt_hash prompt_tokens "
    "completion_tokens prediction target correct score choices probs logprobs output details latency_ms error "
    "created_at"
).split()


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass
class ItemRow:
    """One evaluated item, as stored."""

    model_id: str
    eval_key: str
    suite: str
    suite_version: str
    suite_hash: str
    subset: str
    item_id: str
    prompt_hash: str
    prediction: str | None
    target: str | None
    correct: bool | None
    score: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    choices: list[str] | None = None
    probs: list[float] | None = None
    logprobs: list[float] | None = None
    output: str | None = None
    details: dict = field(default_factory=dict)
    latency_ms: float | None = None
    error: str | None = None


class Store:
    """A connection to one results database; applies migrations on open."""

    def __init__(self, path: str | Path, read_only: bool = False):
        self.path = Path(path)
        if read_only and not self.path.exists():
            raise ConfigError(f"no results database at {self.path}. Run 'evalkit run' first or pass --db PATH.")
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.IOException as exc:
            msg = str(exc).splitlines()[0]
            if "lock" in msg.lower():
                raise ConfigError(
                    f"the results database {self.path} is in use by another process. Wait for it or pass --db OTHER.duckdb."
                ) from None
            raise ConfigError(f"cannot open results database {self.path}: {msg}. Pass --db with a DuckDB file.") from None
        except duckdb.Error as exc:
            raise ConfigError(
                f"{self.path} is not a DuckDB results database ({str(exc).splitlines()[0]}). Pass --db with another path."
            ) from None
        if not read_only:
            apply_migrations(self.con)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------
    def start_run(self, run_id: str, command: str, config: dict, host: dict, version: str) -> None:
        self.con.execute(
            "INSERT INTO runs (run_id, started_at, status, evalkit_version, command, config, host, warnings) "
            "VALUES (?, ?, 'running', ?, ?, ?, ?, '[]')",
            [run_id, utcnow(), version, command, json.dumps(config), json.dumps(host)],
        )

    def finish_run(self, run_id: str, status: str, warnings: Sequence[str]) -> None:
        self.con.execute(
            "UPDATE runs SET finished_at = ?, status = ?, warnings = ? WHERE run_id = ?",
            [utcnow(), status, json.dumps(list(warnings)), run_id],
        )

    def upsert_model(self, model_id: str, spec: str, name: str, info: dict) -> None:
        self.con.execute("DELETE FROM models WHERE model_id = ?", [model_id])
        self.con.execute(
            "INSERT INTO models VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                model_id,
                spec,
                name,
                info.get("path"),
                info.get("file_size"),
                info.get("quant_type"),
                info.get("n_params"),
                info.get("bits_per_weight"),
                info.get("context_length"),
                info.get("architecture"),
                json.dumps(info),
            ],
        )

    def add_items(self, run_id: str, rows: Iterable[ItemRow]) -> int:
        now = utcnow()
        values = []
        for r in rows:
            values.append(
                [
                    run_id, r.model_id, r.eval_key, r.suite, r.suite_version, r.suite_hash, r.subset, r.item_id,
                    r.prompt_hash, r.prompt_tokens, r.completion_tokens, r.prediction, r.target, r.correct, r.score,
                    r.choices, r.probs, r.logprobs, r.output, json.dumps(r.details), r.latency_ms, r.error, now,
                ]
            )  # fmt: skip
        if values:
            placeholders = ", ".join("?" * len(ITEM_COLUMNS))
            self.con.executemany(f"INSERT INTO items ({', '.join(ITEM_COLUMNS)}) VALUES ({placeholders})", values)
        return len(values)

    def add_metrics(self, run_id: str, model_id: str, rows: Iterable[dict]) -> None:
        """Metric rows; a row's ``details`` (dict) is stored as JSON, its ``confusion`` ([[gold, predicted, n]])
        in the confusion table."""
        rows = list(rows)
        values = [
            [run_id, model_id, m["suite"], m["suite_version"], m["subset"], m["metric"], m["value"],
             m.get("ci_low"), m.get("ci_high"), m.get("n"), list(m.get("flags", [])),
             json.dumps(m["details"]) if m.get("details") is not None else None]
            for m in rows
        ]  # fmt: skip
        if values:
            cols = "run_id, model_id, suite, suite_version, subset, metric, value, ci_low, ci_high, n, flags, details"
            self.con.executemany(f"INSERT INTO metrics ({cols}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
        cells = [
            [run_id, model_id, m["suite"], m["suite_version"], m["subset"], str(g), str(p), int(n)]
            for m in rows for g, p, n in m.get("confusion") or []
        ]  # fmt: skip
        if cells:
            self.con.executemany("INSERT INTO confusion VALUES (?, ?, ?, ?, ?, ?, ?, ?)", cells)

    # -- reading ---------------------------------------------------------------------------
    def done_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of these eval keys already have an error-free stored result."""
        if not keys:
            return set()
        self.con.execute("CREATE OR REPLACE TEMP TABLE _wanted (k VARCHAR)")
        self.con.executemany("INSERT INTO _wanted VALUES (?)", [[k] for k in keys])
        rows = self.con.execute(
            "SELECT DISTINCT i.eval_key FROM items i JOIN _wanted w ON i.eval_key = w.k WHERE i.error IS NULL"
        ).fetchall()
        return {r[0] for r in rows}

    def latest_items(self, keys: Sequence[str]) -> list[dict]:
        """The newest stored row for each eval key (resumed and fresh items alike)."""
        if not keys:
            return []
        self.con.execute("CREATE OR REPLACE TEMP TABLE _wanted (k VARCHAR)")
        self.con.executemany("INSERT INTO _wanted VALUES (?)", [[k] for k in keys])
        cur = self.con.execute(
            "SELECT i.* FROM items i JOIN _wanted w ON i.eval_key = w.k WHERE i.error IS NULL "
            "QUALIFY row_number() OVER (PARTITION BY i.eval_key ORDER BY i.created_at DESC) = 1"
        )
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, row)) for row in cur.fetchall()]

    def query(self, sql: str, params: Sequence | None = None):
        """Run a read query and return a pandas DataFrame."""
        return self.con.execute(sql, params or []).df()
