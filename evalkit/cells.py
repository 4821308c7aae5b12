"""Matrix cells: one model file each (a model as given, or one of its quantization levels).

A model spec may name a level: ``smollm2-135m@Q8_0`` is SmolLM2 requantized to
Q8_0 by llama.cpp (cached, see evalkit.quantize); ``smollm2-135m@source`` or
plain ``smollm2-135m`` is the file as shipped. This module expands specs into
cells and writes each cell's measurements to the ``cells`` table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from evalkit.cost import HardwareProfile, api_price, items_cost
from evalkit.errors import ConfigError, ModelError, did_you_mean
from evalkit.models import ModelRef, model_facts, resolve_model
from evalkit.quantize import QTYPES, derive
from evalkit.store import utcnow

SOURCE = "source"

CELL_COLUMNS = (
    "run_id model_id status error backend threads cpu peak_rss_bytes load_seconds pp_tps tg_tps ttft_ms_median "
    "ttft_ms_p95 suite_pp_tps suite_tg_tps usd_per_mtok_in usd_per_mtok_out started_at finished_at details spec "
    "quant_type source_model_id items correct tokens_in tokens_out usd_per_1k_items usd_per_correct"
).split()


@dataclass
class Cell:
    """One model file of the matrix, with the jobs (suite × subset) it must run."""

    spec: str
    ref: ModelRef | None
    model_id: str | None = None
    info: dict = field(default_factory=dict)
    source_model_id: str | None = None  # set for derived quantization levels
    requested_quant: str | None = None
    error: str | None = None  # the level could not be derived
    jobs: list = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.spec

    @property
    def quant(self) -> str | None:
        return self.info.get("quant_type") or self.requested_quant

    @property
    def pending(self) -> int:
        return sum(len(j.pending) for j in self.jobs)


def display_name(ref: ModelRef) -> str:
    """'smollm2-135m' for a model as given, 'smollm2-135m@Q8_0' for a derived level."""
    if ref.source == "derived":
        return f"{ref.name}@{ref.spec.rpartition('@')[2].upper()}"
    return ref.name


def split_spec(spec: str) -> tuple[str, str | None]:
    """'model@Q8_0' → ('model', 'Q8_0'); 'model@source' and plain specs → ('model', None)."""
    from evalkit.backends.server_spec import is_server_spec

    spec = spec.strip()
    if "@" not in spec or is_server_spec(spec) or Path(spec).exists():
        return spec, None
    base, _, suffix = spec.rpartition("@")
    if suffix.lower() == SOURCE:
        return base, None
    if suffix.upper() in QTYPES:
        return base, suffix.upper()
    msg = did_you_mean(suffix, (*QTYPES, SOURCE), "quantization level").rstrip(".")
    raise ConfigError(f"model '{spec}': {msg}. Write MODEL@TYPE, e.g. smollm2-135m@Q8_0.")


def expand(specs: list[str], threads: int | None = None) -> list[Cell]:
    """Resolve every spec; derive quantization levels (cached). A level that fails becomes a failed cell."""
    cells, seen, sources = [], set(), {}
    for spec in specs:
        base, qtype = split_spec(spec)
        if base not in sources:
            sources[base] = resolve_model(base)
        src = sources[base]
        key = (str(src.path), qtype)
        if key in seen:
            continue
        seen.add(key)
        cells.append(_cell(spec, src, qtype, threads))
    return cells


def _cell(spec: str, src: ModelRef, qtype: str | None, threads: int | None) -> Cell:
    if qtype is None:
        model_id, info = model_facts(src)
        return Cell(spec, src, model_id, info)
    source_id, _ = model_facts(src)
    try:
        derived = derive(src.path, qtype, threads)
    except ModelError as exc:
        return Cell(spec, None, source_model_id=source_id, requested_quant=qtype, error=str(exc))
    ref = ModelRef(spec=spec, name=src.name, path=derived.path, source="derived", backend=src.backend)
    model_id, info = model_facts(ref)
    info = {**info, "source_model_id": source_id, "source_path": str(src.path), "derived_quant": qtype}
    return Cell(spec, ref, model_id, info, source_model_id=source_id, requested_quant=qtype)


def register(store, cell: Cell) -> None:
    """Upsert the cell's model (and, for a derived level, its provenance) into the store."""
    if cell.model_id is None:
        return
    store.upsert_model(cell.model_id, cell.spec, cell.ref.name, cell.info)
    if cell.source_model_id:
        from evalkit.quantize import llama_cpp_version

        store.con.execute("DELETE FROM quantizations WHERE model_id = ?", [cell.model_id])
        store.con.execute(
            "INSERT INTO quantizations VALUES (?, ?, ?, ?, ?, ?)",
            [cell.model_id, cell.source_model_id, cell.requested_quant, str(cell.ref.path), llama_cpp_version(), utcnow()],
        )


def already_measured(store, cell: Cell, threads: int | None, bench_key: str | None) -> bool:
    """Whether a complete cell with this model and benchmark settings (and thread count, if one was asked for)
    is stored."""
    if cell.model_id is None:
        return False
    row = store.con.execute(
        "SELECT count(*) FROM cells WHERE model_id = ? AND status = 'complete' AND (? IS NULL OR threads = ?) "
        "AND coalesce(json_extract_string(details, '$.bench_key'), '') = ?",
        [cell.model_id, threads, threads, bench_key or ""],
    ).fetchone()
    return bool(row[0])


def item_totals(store, keys: list[str]) -> dict:
    """Items, correct answers and tokens over the latest stored result of each key."""
    if not keys:
        return {"items": 0, "correct": 0, "tokens_in": 0, "tokens_out": 0}
    store.con.execute("CREATE OR REPLACE TEMP TABLE _cell_keys (k VARCHAR)")
    store.con.executemany("INSERT INTO _cell_keys VALUES (?)", [[k] for k in keys])
    row = store.con.execute(
        """
        WITH latest AS (
            SELECT i.* FROM items i JOIN _cell_keys w ON i.eval_key = w.k WHERE i.error IS NULL
            QUALIFY row_number() OVER (PARTITION BY i.eval_key ORDER BY i.created_at DESC) = 1)
        SELECT count(*), coalesce(sum(CASE WHEN correct THEN 1 ELSE 0 END), 0),
               coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0) FROM latest
        """
    ).fetchone()
    return {"items": int(row[0]), "correct": int(row[1]), "tokens_in": int(row[2]), "tokens_out": int(row[3])}


def rates(cell: Cell, measured: dict, profile: HardwareProfile) -> tuple[float | None, float | None, str]:
    """($/1M input, $/1M output, basis): API list price, else the hardware profile at the measured speed."""
    if cell.ref is not None and cell.ref.backend != "llamacpp":
        server = getattr(cell.ref, "server", None)
        price = api_price(server.model if server is not None else cell.ref.name)
        if price:
            return price.usd_per_mtok_in, price.usd_per_mtok_out, f"api price table ({price.as_of}, {price.source_url})"
    pp = measured.get("pp_tps") or measured.get("suite_pp_tps")
    tg = measured.get("tg_tps") or measured.get("suite_tg_tps")
    basis = "hardware profile at " + ("micro-benchmark speed" if measured.get("pp_tps") else "observed suite speed")
    return profile.usd_per_mtok(pp), profile.usd_per_mtok(tg), basis


def write_row(store, run_id: str, cell: Cell, status: str, error: str | None, measured: dict, profile: HardwareProfile,
              started, details: dict) -> dict:  # fmt: skip
    """Insert the cell's row (measurements, cost, item totals) and return it as a dict."""
    usd_in, usd_out, basis = rates(cell, measured, profile)
    totals = item_totals(store, [k for j in cell.jobs for k in j.keys])
    per_1k, per_correct = items_cost(totals["items"], totals["correct"], totals["tokens_in"], totals["tokens_out"],
                                     usd_in, usd_out)  # fmt: skip
    row = {
        "run_id": run_id, "model_id": cell.model_id or f"{cell.source_model_id}@{cell.requested_quant}",
        "status": status, "error": error, "backend": cell.ref.backend if cell.ref else None,
        "started_at": started, "finished_at": utcnow(), "spec": cell.spec, "quant_type": cell.quant,
        "source_model_id": cell.source_model_id, "usd_per_mtok_in": usd_in, "usd_per_mtok_out": usd_out,
        "usd_per_1k_items": per_1k, "usd_per_correct": per_correct, **totals,
        "details": json.dumps({**details, "cost_profile": profile.as_dict(), "cost_basis": basis}, default=str),
    }  # fmt: skip
    for key in ("threads", "cpu", "peak_rss_bytes", "load_seconds", "pp_tps", "tg_tps", "ttft_ms_median",
                "ttft_ms_p95", "suite_pp_tps", "suite_tg_tps"):  # fmt: skip
        row[key] = measured.get(key)
    store.con.execute(
        f"INSERT INTO cells ({', '.join(CELL_COLUMNS)}) VALUES ({', '.join('?' * len(CELL_COLUMNS))})",
        [row[c] for c in CELL_COLUMNS],
    )
    return row
