"""Resolve a gate REF (a run in a DuckDB file, or an exported baseline file) into per-item outcomes.

REF forms (any of them may end in ``#MODEL`` to pick one model of a multi-model run):

- ``results/baselines/NAME.json``: a baseline file written by ``evalkit baseline export``;
- ``RUN_ID`` or ``latest``: a run in the ``--db`` file (``latest`` = the newest finished run);
- ``PATH.duckdb`` or ``PATH.duckdb:RUN_ID``: a run in another results file (default: its latest run).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from evalkit.errors import ConfigError, did_you_mean
from evalkit.gate import baseline_file
from evalkit.store import Store

DB_SUFFIXES = (".duckdb", ".db", ".ddb")
FINISHED = ("complete", "partial")  # partial: the run finished but a model's worker crashed (its cell failed)


@dataclass(frozen=True)
class Outcome:
    """One item's stored result: the key it pairs on, its prompt hash, and how it went."""

    suite: str
    subset: str
    item_id: str
    prompt_hash: str
    correct: bool | None
    score: float | None
    error: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.suite, self.subset, self.item_id)


@dataclass
class Side:
    """One side of a comparison (baseline or candidate), however it was stored."""

    ref: str
    source: str  # "run" | "baseline file"
    run_id: str
    run_status: str
    model: dict  # model_id, name, spec, quant_type, ...
    suites: dict[str, dict]  # suite name -> {"version", "hash"}
    items: list[Outcome]
    cell: dict | None = None  # status, error, peak_rss_bytes, pp_tps, tg_tps, cpu, threads, ...
    host: dict = field(default_factory=dict)
    started_at: str | None = None
    command: str | None = None

    @property
    def label(self) -> str:
        m = self.model
        return f"{m.get('spec') or m.get('name') or str(m.get('model_id', '?'))[:12]} @ {self.run_id}"

    def cpu(self) -> str | None:
        return (self.cell or {}).get("cpu") or self.host.get("cpu")


def split_model(ref: str) -> tuple[str, str | None]:
    """'REF#MODEL' -> ('REF', 'MODEL'); no '#' -> ('REF', None)."""
    if "#" in ref:
        base, model = ref.rsplit("#", 1)
        return base, model or None
    return ref, None


def resolve(ref: str, db: str | Path) -> Side:
    """Turn a REF into a :class:`Side`; raise ConfigError naming the fix if it cannot be."""
    text, model = split_model(ref.strip())
    if not text:
        raise ConfigError(f"empty REF '{ref}'. Pass a run id, 'latest', a .duckdb file or a baseline .json file.")
    if text.endswith(".json"):
        return baseline_file.load(text, ref, model)
    db_path, run = _db_and_run(text, db)
    with open_db(db_path) as store:
        return load_run(store, run, model, ref)


def _db_and_run(text: str, db: str | Path) -> tuple[Path, str]:
    head, sep, tail = text.rpartition(":")
    if sep and head.endswith(DB_SUFFIXES):
        return Path(head), tail or "latest"
    if text.endswith(DB_SUFFIXES) or Path(text).is_file():
        return Path(text), "latest"
    return Path(db), text


def open_db(path: Path) -> Store:
    if not path.is_file():
        raise ConfigError(
            f"no results database at {path}. Pass --db PATH (or REF as PATH.duckdb:RUN_ID), or a baseline .json file."
        )
    return Store(path, read_only=True)


def load_run(store: Store, run: str, model: str | None, ref: str) -> Side:
    """One model's outcomes in one run (reused items from earlier runs included where unambiguous)."""
    row = _find_run(store, run)
    run_id, status, started_at, host, command = row
    model_row = _pick_model(store, run_id, model, ref)
    items = _run_items(store, run_id, model_row["model_id"])
    return Side(
        ref=ref, source="run", run_id=run_id, run_status=status, model=model_row,
        suites=_suite_versions(store, run_id, model_row["model_id"]), items=items,
        cell=_cell(store, run_id, model_row["model_id"]), host=_json(host), started_at=str(started_at),
        command=command,
    )  # fmt: skip


def _json(value) -> dict:
    if isinstance(value, dict):
        return value
    try:
        return json.loads(value) if value else {}
    except ValueError:
        return {}


def _find_run(store: Store, run: str) -> tuple:
    cols = "run_id, status, started_at, host, command"
    if run == "latest":
        row = store.con.execute(
            f"SELECT {cols} FROM runs WHERE status IN {FINISHED} ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
        if row is None:
            raise ConfigError(f"no finished run in {store.path}. Run 'evalkit run --db {store.path}' first.")
        return row
    rows = store.con.execute(f"SELECT {cols} FROM runs WHERE run_id = ? OR run_id LIKE ? || '%'", [run, run]).fetchall()
    exact = [r for r in rows if r[0] == run]
    if exact or len(rows) == 1:
        return (exact or rows)[0]
    known = [r[0] for r in store.con.execute("SELECT run_id FROM runs ORDER BY started_at DESC").fetchall()]
    if rows:
        raise ConfigError(f"run id prefix '{run}' matches {len(rows)} runs in {store.path}. Give more of the run id.")
    raise ConfigError(f"{store.path}: " + did_you_mean(run, known, "run id") + ". Or use 'latest'.")


def _pick_model(store: Store, run_id: str, wanted: str | None, ref: str) -> dict:
    models = _run_models(store, run_id)
    if not models:
        raise ConfigError(f"run {run_id} in {store.path} holds no item results. Gate a run that evaluated items.")
    if wanted:
        hits = _match_model(models, wanted)
        if len(hits) > 1:
            raise ConfigError(
                f"'{wanted}' matches {len(hits)} models of run {run_id} ({', '.join(_model_label(m) for m in hits)}). "
                f"Use one of those, e.g. {ref.split('#')[0]}#{_model_label(hits[0])}."
            )
        if not hits:
            names = [_model_label(m) for m in models]
            raise ConfigError(f"run {run_id}: " + did_you_mean(wanted, names, "model") + f". Use {ref.split('#')[0]}#NAME.")
        return hits[0]
    if len(models) > 1:
        names = ", ".join(_model_label(m) for m in models)
        raise ConfigError(
            f"run {run_id} holds {len(models)} models ({names}): pick one with {ref}#NAME, e.g. {ref}#{_model_label(models[0])}."
        )
    return models[0]


def _model_label(m: dict) -> str:
    """How a model is named on the command line: its spec (e.g. 'smollm2-135m@Q2_K'), else its name."""
    return str(m.get("spec") or m.get("name") or str(m.get("model_id", "?"))[:12])


def _match_model(models: list[dict], wanted: str) -> list[dict]:
    """Models matching *wanted*: by spec first (derived levels share their source's name), then name, then id prefix."""
    for test in (lambda m: m.get("spec") == wanted, lambda m: m.get("name") == wanted,
                 lambda m: len(wanted) >= 6 and str(m.get("model_id", "")).startswith(wanted)):  # fmt: skip
        hits = [m for m in models if test(m)]
        if hits:
            return hits
    return []


def _plain(value):
    """DuckDB/pandas scalars (numpy ints, NaN) to plain JSON-able Python values."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def _run_models(store: Store, run_id: str) -> list[dict]:
    """Every model of a run: with stored items, with metrics only (all items reused), or with only a cell
    (a crashed worker that stored nothing); facts from the models table where it has them."""
    has_cells = _has_table(store, "cells")
    cell_spec = "spec" in _columns(store, "cells") if has_cells else False
    ids = [r[0] for r in store.con.execute(
        "SELECT model_id FROM items WHERE run_id = $r UNION SELECT model_id FROM metrics WHERE run_id = $r"
        + (" UNION SELECT model_id FROM cells WHERE run_id = $r" if has_cells else "") + " ORDER BY 1",
        {"r": run_id},
    ).fetchall()]  # fmt: skip
    out = []
    for model_id in ids:
        rows = store.query("SELECT * EXCLUDE (metadata) FROM models WHERE model_id = ?", [model_id]).to_dict("records")
        model = {k: _plain(v) for k, v in rows[0].items()} if rows else {"model_id": model_id}
        if not rows and cell_spec:
            spec = store.con.execute("SELECT max(spec) FROM cells WHERE run_id = ? AND model_id = ?", [run_id, model_id]).fetchone()[0]
            model.update({"spec": spec, "name": spec})
        out.append(model)
    return out


def _has_table(store: Store, table: str) -> bool:
    return bool(store.con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]).fetchone()[0])


ITEM_SQL = """
    SELECT suite, suite_version, suite_hash, subset, item_id, prompt_hash, correct, score, error, created_at
    FROM items WHERE {where}
    QUALIFY row_number() OVER (PARTITION BY suite, subset, item_id ORDER BY created_at DESC) = 1
"""


def _run_items(store: Store, run_id: str, model_id: str) -> list[Outcome]:
    own = store.query(ITEM_SQL.format(where="run_id = ? AND model_id = ?"), [run_id, model_id])
    items = {(r.suite, r.subset, r.item_id): r for r in own.itertuples()}
    for (suite, version, subset), n in _expected_counts(store, run_id, model_id).items():
        have = [k for k, r in items.items() if k[0] == suite and k[1] == subset and r.error is None]
        if len(have) < n:
            items.update(_reused(store, run_id, model_id, suite, version, subset, n, items))
    return [
        Outcome(r.suite, r.subset, r.item_id, r.prompt_hash, _bool(r.correct), _float(r.score), r.error)
        for r in sorted(items.values(), key=lambda r: (r.suite, r.subset, r.item_id))
    ]


def _bool(v) -> bool | None:
    return None if v is None or v != v else bool(v)


def _float(v) -> float | None:
    return None if v is None or v != v else float(v)


def _expected_counts(store: Store, run_id: str, model_id: str) -> dict[tuple[str, str, str], int]:
    """Items per subset that the run's own metrics counted (error-free), to detect reused items."""
    rows = store.con.execute(
        "SELECT suite, suite_version, subset, max(n) FROM metrics WHERE run_id = ? AND model_id = ? AND subset <> 'all' "
        "GROUP BY ALL",
        [run_id, model_id],
    ).fetchall()
    return {(s, v, sub): int(n or 0) for s, v, sub, n in rows}


def _reused(store: Store, run_id, model_id, suite, version, subset, n, have) -> dict:
    """Items of a subset the run reused from earlier runs of the same model and suite version.

    ``evalkit run`` skips items already stored, so the run holds only the new ones; the
    rest are the latest error-free rows stored before the run ended. If that does not
    give exactly the count the run's metrics report, which items it reused is ambiguous.
    """
    earlier = store.query(
        ITEM_SQL.format(
            where="model_id = ? AND suite = ? AND suite_version = ? AND subset = ? AND error IS NULL AND run_id <> ? "
            "AND created_at <= (SELECT coalesce(finished_at, now()) FROM runs WHERE run_id = ?)"
        ),
        [model_id, suite, version, subset, run_id, run_id],
    )
    own = sum(1 for k, r in have.items() if k[0] == suite and k[1] == subset and r.error is None)
    added = {}
    for r in earlier.itertuples():
        if (r.suite, r.subset, r.item_id) not in have:
            added[(r.suite, r.subset, r.item_id)] = r
    if own + len(added) != n:
        raise ConfigError(
            f"run {run_id} reused items of {suite}/{subset} stored by earlier runs, and which ones is ambiguous "
            f"({n} counted, {own + len(added)} candidates). Gate the run that evaluated them, or re-run with --force or a fresh --db."
        )
    return added


def _suite_versions(store: Store, run_id: str, model_id: str) -> dict[str, dict]:
    rows = store.con.execute(
        "SELECT suite, list(DISTINCT suite_version), list(DISTINCT suite_hash) FROM items "
        "WHERE run_id = ? AND model_id = ? GROUP BY suite",
        [run_id, model_id],
    ).fetchall()
    out = {s: {"version": ",".join(sorted(v)), "hash": ",".join(sorted(h for h in hs if h))} for s, v, hs in rows}
    for s, v, _sub in _expected_counts(store, run_id, model_id):
        out.setdefault(s, {"version": v, "hash": ""})
    return out


CELL_FIELDS = ("status", "error", "backend", "threads", "cpu", "peak_rss_bytes", "load_seconds", "pp_tps", "tg_tps",
               "ttft_ms_median", "ttft_ms_p95", "suite_pp_tps", "suite_tg_tps")  # fmt: skip


def _cell(store: Store, run_id: str, model_id: str) -> dict | None:
    """The run × model measurement row (speed, RAM, crash status), if the database has one."""
    if not _has_table(store, "cells"):
        return None
    cols = [c for c in CELL_FIELDS if c in _columns(store, "cells")]
    row = store.con.execute(
        f"SELECT {', '.join(cols)} FROM cells WHERE run_id = ? AND model_id = ? ORDER BY finished_at DESC NULLS LAST LIMIT 1",
        [run_id, model_id],
    ).fetchone()
    return {k: _plain(v) for k, v in zip(cols, row)} if row else None


def _columns(store: Store, table: str) -> set[str]:
    return {r[0] for r in store.con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]).fetchall()}
