"""Table pages: the leaderboard, one page per model and per run, the runs list, "How we measure"."""

from __future__ import annotations

from datetime import datetime

from evalkit.site.charts import latest_cells
from evalkit.site.fmt import is_num, redact, slug
from evalkit.site.queries import SiteData, blended_price, combined_mean

CELL_FIELDS = [
    # column, label, kind (for formatting)
    ("status", "status", "text"), ("error", "error", "text"), ("backend", "backend", "text"),
    ("threads", "threads", "int"), ("cpu", "CPU", "text"), ("peak_rss_bytes", "peak RAM", "bytes"),
    ("load_seconds", "load time (s)", "num2"), ("pp_tps", "pp tok/s (pp512)", "num1"),
    ("tg_tps", "tg tok/s (tg128)", "num1"), ("ttft_ms_median", "TTFT median (ms)", "num1"),
    ("ttft_ms_p95", "TTFT p95 (ms)", "num1"), ("suite_pp_tps", "pp tok/s in suites", "num1"),
    ("suite_tg_tps", "tg tok/s in suites", "num1"), ("usd_per_mtok_in", "$ / 1M input tokens", "usd"),
    ("usd_per_mtok_out", "$ / 1M output tokens", "usd"), ("started_at", "started", "text"),
    ("finished_at", "finished", "text"),
]  # fmt: skip


def cell_fields(cells: list[dict]) -> list[tuple[str, str, str]]:
    """The known measurement columns, then any other column a newer schema added (shown as stored)."""
    known = {key for key, _, _ in CELL_FIELDS} | {"run_id", "model_id", "details"}
    extra = sorted({k for c in cells for k, v in c.items() if k not in known and v is not None})
    return CELL_FIELDS + [(k, k.replace("_", " "), "auto") for k in extra]


def _flags(data: SiteData) -> dict[tuple[str, str], list[str]]:
    """Degenerate-result flags per model × suite, from the newest metric row of each subset and metric."""
    started = {r["run_id"]: str(r.get("started_at") or "") for r in data.runs}
    newest: dict[tuple, dict] = {}
    for r in data.metrics:
        key = (r["model_id"], r["suite"], r["subset"], r["metric"])
        if key not in newest or started.get(r["run_id"], "") >= started.get(newest[key]["run_id"], ""):
            newest[key] = r
    out: dict[tuple[str, str], set[str]] = {}
    for (model_id, suite, _, _), r in newest.items():
        if r.get("flags"):
            out.setdefault((model_id, suite), set()).update(r["flags"])
    return {k: sorted(v) for k, v in out.items()}


def leaderboard(data: SiteData) -> dict:
    """One row per model: static facts, its latest measured cell, score per suite and the mean with CI."""
    cells = latest_cells(data)
    flags = _flags(data)
    scores: dict[str, dict[str, dict]] = {}
    for s in data.suite_scores:
        scores.setdefault(s["model_id"], {})[s["suite"]] = {**s, "flags": flags.get((s["model_id"], s["suite"]), [])}
    rows = []
    for m in data.models:
        mine = scores.get(m["model_id"], {})
        c = cells.get(m["model_id"], {})
        if not mine and not c:
            continue
        mean, low, high = combined_mean([(s["mean"], s["ci_low"], s["ci_high"]) for s in mine.values()])
        rows.append({
            "model": m, "cell": c, "scores": mine, "mean": mean, "ci_low": low, "ci_high": high,
            "n_suites": len(mine), "usd_blended": blended_price(c.get("usd_per_mtok_in"), c.get("usd_per_mtok_out")),
            "peak_gb": c["peak_rss_bytes"] / 1e9 if is_num(c.get("peak_rss_bytes")) else None,
            "flagged": any(s["flags"] for s in mine.values()),
        })  # fmt: skip
    rows.sort(key=lambda r: -(r["mean"] if is_num(r["mean"]) else -1))
    quants = sorted({r["model"].get("quant_type") or "" for r in rows} - {""})
    return {"rows": rows, "suites": data.suites, "quants": quants, "has_cells": bool(cells)}


def _run_view(run: dict) -> dict:
    started, finished = run.get("started_at"), run.get("finished_at")
    duration = (finished - started).total_seconds() if isinstance(started, datetime) and isinstance(finished, datetime) else None
    return {**run, "slug": slug(run["run_id"]), "duration_s": duration, "config_public": redact(run.get("config") or {}),
            "host_public": redact(run.get("host") or {}), "command_public": " ".join(str(redact(a)) for a in (run.get("command") or "").split())}  # fmt: skip


def runs_list(data: SiteData) -> list[dict]:
    per_run: dict[str, dict] = {}
    models = data.model_by_id
    for g in data.run_items:
        r = per_run.setdefault(g["run_id"], {"n": 0, "models": set(), "suites": set()})
        r["n"] += g["n"]
        r["models"].add(models.get(g["model_id"], {}).get("label", g["model_id"][:12]))
        r["suites"].add(g["suite"])
    out = []
    for run in data.runs:
        info = per_run.get(run["run_id"], {"n": 0, "models": set(), "suites": set()})
        out.append({**_run_view(run), "n_items": info["n"], "model_labels": sorted(info["models"]), "suite_names": sorted(info["suites"])})
    return out


def model_page(data: SiteData, m: dict, browsers: dict[str, dict]) -> dict:
    mid = m["model_id"]
    runs = {r["run_id"]: r for r in data.runs}
    groups = [g for g in data.run_items if g["model_id"] == mid]
    run_rows = []
    for g in groups:
        run = runs.get(g["run_id"], {"run_id": g["run_id"]})
        anchor = browsers.get(g["run_id"], {}).get("anchors", {}).get((mid, g["suite"]))
        run_rows.append({**g, "run_slug": slug(g["run_id"]), "started_at": run.get("started_at"), "anchor": anchor})
    return {
        "m": m,
        "facts": redact({k: v for k, v in m.items() if k not in ("slug", "label", "family_key")}),
        "cells": [c for c in data.cells if c["model_id"] == mid],
        "cell_fields": cell_fields(data.cells),
        "suite_scores": [s for s in data.suite_scores if s["model_id"] == mid],
        "subset_scores": [s for s in data.subset_scores if s["model_id"] == mid],
        "metrics": [r for r in data.metrics if r["model_id"] == mid],
        "ladder": _ladder_of(data, mid),
        "confusion": confusion_matrices(data, mid),
        "run_rows": run_rows,
        "hosts": {r["run_id"]: _run_view(runs[r["run_id"]])["host_public"] for r in run_rows if r["run_id"] in runs},
    }


def confusion_matrices(data: SiteData, model_id: str) -> list[dict]:
    """Per suite × subset, the newest run's confusion matrix of this model: gold labels (rows) × predictions."""
    started = {r["run_id"]: str(r.get("started_at") or "") for r in data.runs}
    newest: dict[tuple[str, str], str] = {}
    for c in data.confusion:
        key = (c["suite"], c["subset"])
        if c["model_id"] == model_id and started.get(c["run_id"], "") >= started.get(newest.get(key, ""), ""):
            newest[key] = c["run_id"]
    out = []
    for (suite, subset), run_id in sorted(newest.items()):
        cells = [c for c in data.confusion if (c["model_id"], c["suite"], c["subset"], c["run_id"]) == (model_id, suite, subset, run_id)]
        gold = sorted({c["gold"] for c in cells})
        predicted = gold + sorted({c["predicted"] for c in cells} - set(gold))
        counts = {(c["gold"], c["predicted"]): c["n"] for c in cells}
        rows = []
        for g in gold:
            total = sum(counts.get((g, p), 0) for p in predicted) or 1
            rows.append({"gold": g, "cells": [{"n": counts.get((g, p), 0), "share": counts.get((g, p), 0) / total} for p in predicted]})
        out.append({"suite": suite, "subset": subset, "run_id": run_id, "predicted": predicted, "rows": rows})
    return out


def _ladder_of(data: SiteData, model_id: str) -> list[dict]:
    """Every level of the ladder(s) this model belongs to, as source or as a level."""
    sources = {r["source_model_id"] for r in data.ladder if model_id in (r["model_id"], r["source_model_id"])}
    return [r for r in data.ladder if r["source_model_id"] in sources]


def run_page(data: SiteData, run: dict) -> dict:
    rid = run["run_id"]
    models = data.model_by_id
    return {
        "run": _run_view(run),
        "cells": [{**c, "label": models.get(c["model_id"], {}).get("label", c["model_id"][:12]),
                   "slug": models.get(c["model_id"], {}).get("slug")} for c in data.cells if c["run_id"] == rid],
        "cell_fields": cell_fields(data.cells),
        "metrics": [{**r, "label": models.get(r["model_id"], {}).get("label", r["model_id"][:12])} for r in data.metrics if r["run_id"] == rid],
        "groups": [{**g, "label": models.get(g["model_id"], {}).get("label", g["model_id"][:12]),
                    "slug": models.get(g["model_id"], {}).get("slug")} for g in data.run_items if g["run_id"] == rid],
    }  # fmt: skip


def method(data: SiteData) -> dict:
    """Hardware and versions seen in the runs, the cost figures in use, and the metric names present."""
    hosts: dict[str, dict] = {}
    for run in data.runs:
        h = redact(run.get("host") or {})
        key = repr(sorted(h.items())) if isinstance(h, dict) else str(h)
        entry = hosts.setdefault(key, {"host": h, "runs": 0, "last": run.get("started_at")})
        entry["runs"] += 1
    cost_profiles = {}
    for c in data.cells:
        details = c.get("details") if isinstance(c.get("details"), dict) else {}
        for key in ("cost", "cost_profile", "hardware_profile"):
            if isinstance(details.get(key), dict):
                cost_profiles[repr(sorted(details[key].items()))] = redact(details[key])
    threads = sorted({(c.get("cpu") or "?", c.get("threads")) for c in data.cells}, key=str)
    metric_names = sorted({r["metric"] for r in data.metrics})
    return {"hosts": list(hosts.values()), "cost_profiles": list(cost_profiles.values()), "threads": threads,
            "metric_names": metric_names, "references": data.references, "n_cells": len(data.cells)}  # fmt: skip
