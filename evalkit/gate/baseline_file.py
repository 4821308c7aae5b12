"""Baseline files: one run of one model, exported to a small JSON file that can be committed.

They hold per-item outcomes (not only aggregates), so a later run can be compared
item by item. Layout (``format`` 1)::

    {"format": "evalkit-baseline", "format_version": 1, "name": ..., "exported_at": ...,
     "run": {run_id, status, started_at, command, host}, "model": {model_id, name, quant_type, ...},
     "suites": {NAME: {version, hash, n, accuracy}}, "cell": {status, peak_rss_bytes, pp_tps, tg_tps, ...} | null,
     "columns": ["suite", "subset", "item_id", "prompt_hash", "correct", "score", "error"],
     "items": [[...], ...]}
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from evalkit import __version__
from evalkit.errors import ConfigError

FORMAT = "evalkit-baseline"
FORMAT_VERSION = 1
COLUMNS = ["suite", "subset", "item_id", "prompt_hash", "correct", "score", "error"]
HOST_KEYS = ("cpu", "cores", "ram_bytes", "ram_gb", "os", "machine", "python", "llama_cpp_python")


def to_document(side, name: str) -> dict:
    """The JSON document of a baseline file for one resolved run side."""
    suites = {}
    for suite, info in sorted(side.suites.items()):
        outs = [o for o in side.items if o.suite == suite]
        scored = [o.score if o.score is not None else float(bool(o.correct)) for o in outs if o.error is None]
        suites[suite] = {
            "version": info.get("version"), "hash": info.get("hash"), "n": len(outs),
            "errors": sum(1 for o in outs if o.error), "mean_score": round(sum(scored) / len(scored), 6) if scored else None,
        }  # fmt: skip
    rows = [[o.suite, o.subset, o.item_id, o.prompt_hash, o.correct, o.score, (o.error or None) and o.error[:200]]
            for o in side.items]  # fmt: skip
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": name,
        "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "evalkit_version": __version__,
        "run": {"run_id": side.run_id, "status": side.run_status, "started_at": side.started_at,
                "command": side.command, "host": {k: side.host[k] for k in HOST_KEYS if k in side.host} or side.host},
        "model": {k: v for k, v in side.model.items() if k != "path"},  # a local path means nothing elsewhere
        "suites": suites,
        "cell": side.cell,
        "columns": COLUMNS,
        "items": rows,
    }  # fmt: skip


def dumps(doc: dict) -> str:
    """Pretty JSON with one item per line (small diffs when a baseline is updated)."""
    head = {k: v for k, v in doc.items() if k != "items"}
    text = json.dumps(head, indent=2, default=str)[:-2]
    items = ",\n".join("    " + json.dumps(row) for row in doc["items"])
    return f'{text},\n  "items": [\n{items}\n  ]\n}}\n'


def write(side, out: str | Path, name: str | None = None) -> Path:
    out = Path(out)
    if out.suffix != ".json":
        raise ConfigError(f"--out {out}: a baseline file must end in .json. Use e.g. results/baselines/NAME.json.")
    doc = to_document(side, name or out.stem)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(dumps(doc), encoding="utf-8")
    tmp.replace(out)
    return out


def read(path: str | Path) -> dict:
    path = Path(path)
    fix = f"Export one with 'evalkit baseline export RUN_ID --db DB --out {path}'."
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"baseline file not found: {path}. {fix}") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read baseline file {path}: {exc}. {fix}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ConfigError(f"{path} is not an evalkit baseline file (no \"format\": \"{FORMAT}\"). {fix}")
    if doc.get("format_version") != FORMAT_VERSION:
        raise ConfigError(
            f"{path} has baseline format {doc.get('format_version')}, this evalkit reads {FORMAT_VERSION}. "
            "Upgrade evalkit or re-export the baseline."
        )
    missing = [k for k in ("run", "model", "suites", "columns", "items") if k not in doc]
    if missing or doc["columns"][: len(COLUMNS)] != COLUMNS:
        raise ConfigError(f"{path}: baseline file is incomplete (missing {', '.join(missing) or 'columns'}). {fix}")
    return doc


def load(path: str, ref: str, model: str | None):
    """A baseline file as a gate side."""
    from evalkit.gate.refs import Outcome, Side

    doc = read(path)
    m = doc["model"] or {}
    if model and model not in (m.get("name"), m.get("spec")) and not str(m.get("model_id", "")).startswith(model):
        raise ConfigError(f"baseline file {path} holds model {m.get('name')}, not '{model}'. Drop '#{model}' from the REF.")
    try:
        items = [Outcome(*row[:7]) for row in doc["items"]]
    except TypeError:
        raise ConfigError(f"{path}: malformed item rows. Re-export the baseline with 'evalkit baseline export'.") from None
    suites = {s: {"version": str(v.get("version")), "hash": v.get("hash") or ""} for s, v in doc["suites"].items()}
    run = doc["run"]
    return Side(
        ref=ref, source="baseline file", run_id=str(run.get("run_id")), run_status=str(run.get("status")), model=m,
        suites=suites, items=items, cell=doc.get("cell"), host=run.get("host") or {}, started_at=run.get("started_at"),
        command=run.get("command"),
    )  # fmt: skip
