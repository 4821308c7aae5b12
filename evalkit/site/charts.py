"""Chart pages: which rows go into which figure (trade-offs, ladder, reasoning depth, context length, MMLU)."""

from __future__ import annotations

import re
from collections.abc import Callable

from evalkit.site import figures
from evalkit.site.figures import esc
from evalkit.site.fmt import is_num, pct, size, usd
from evalkit.site.queries import SiteData, blended_price


def hover(*lines: str) -> str:
    return "<br>".join(esc(line) for line in lines if line)


def latest_cells(data: SiteData) -> dict[str, dict]:
    """Per model, the newest value of each measurement among its complete cells (as `evalkit results` shows
    them); a model whose cells all failed gets its newest cell. Cells come newest first."""
    best: dict[str, dict] = {}
    for c in data.cells:
        cur = best.get(c["model_id"])
        if cur is None:
            best[c["model_id"]] = dict(c)
        elif cur.get("status") != "complete" and c.get("status") == "complete":
            best[c["model_id"]] = dict(c)
        elif c.get("status") == "complete":
            for key, value in c.items():
                if cur.get(key) is None and value is not None:
                    cur[key] = value
    return best


def family_styles(data: SiteData) -> dict[str, dict]:
    families = sorted({m["family"] for m in data.models})
    return {f: figures.style(i) for i, f in enumerate(families)}


def model_styles(data: SiteData) -> dict[str, dict]:
    """Per model label: its family's colour, a different dash and symbol per quantization level."""
    fam = family_styles(data)
    seen: dict[str, int] = {}
    out = {}
    for m in sorted(data.models, key=lambda m: (m["family"], -(m.get("bits_per_weight") or 0))):
        k = seen.get(m["family"], 0)
        seen[m["family"]] = k + 1
        base = fam[m["family"]]
        out[m["label"]] = {"color": base["color"], "symbol": figures.SYMBOLS[k % len(figures.SYMBOLS)],
                           "dash": figures.DASHES[k % len(figures.DASHES)]}  # fmt: skip
    return out


def _score_text(s: dict) -> str:
    return f"{pct(s['mean'])} (95% CI {pct(s['ci_low'])}–{pct(s['ci_high'])}, n={s['n']})"


AXES: list[tuple[str, str, Callable[[dict], float | None], bool, bool]] = [
    # key, axis title, value from a cell, log axis, lower is better
    ("ram", "peak RAM (GB)", lambda c: c["peak_rss_bytes"] / 1e9 if is_num(c.get("peak_rss_bytes")) else None, False, True),
    ("tps", "generation speed (tokens/s, tg128)", lambda c: c.get("tg_tps") if is_num(c.get("tg_tps")) else None, False, False),
    ("usd", "$ per 1M tokens (3:1 in:out blend, log)",
     lambda c: blended_price(c.get("usd_per_mtok_in"), c.get("usd_per_mtok_out")), True, True),
]  # fmt: skip


def _point_hover(m: dict, s: dict, c: dict) -> str:
    return hover(
        f"{m['label']}",
        f"{s['suite']}: {_score_text(s)}",
        f"peak RAM {size(c.get('peak_rss_bytes'))} · file {size(m.get('file_size'))}",
        f"pp {c.get('pp_tps') or 0:.0f} tok/s · tg {c.get('tg_tps') or 0:.1f} tok/s · TTFT {c.get('ttft_ms_median') or 0:.0f} ms",
        f"{usd(c.get('usd_per_mtok_in'))} in / {usd(c.get('usd_per_mtok_out'))} out per 1M tokens",
    )


def _ref_points(data: SiteData, suite: str) -> list[dict]:
    out = []
    for r in data.references:
        if r["suite"] != suite or not is_num(r.get("value")):
            continue
        where = r["subset"] if r["subset"] not in ("all", "", None) else "full test"
        shots = f", {r['shots']}-shot" if r.get("shots") is not None else ""
        price = f"{usd(r.get('usd_per_mtok_in'))} in / {usd(r.get('usd_per_mtok_out'))} out per 1M" if r.get("usd_blended") else "no price"
        out.append({
            "x": r.get("usd_blended"),
            "y": r["value"],
            "name": r["model"],
            "hover": hover(f"{r['model']} — published, not measured here", f"{r['suite']} ({where}{shots}): {pct(r['value'])}",
                           price, f"source: {r['source']}"),
        })  # fmt: skip
    return out


def tradeoffs(data: SiteData) -> list[dict]:
    """Per suite: three trade-off figures (None where nothing is measured on that axis)."""
    cells = latest_cells(data)
    models = data.model_by_id
    styles = family_styles(data)
    sections = []
    for suite in data.suites:
        scores = [s for s in data.suite_scores if s["suite"] == suite]
        refs = _ref_points(data, suite)
        charts = []
        for key, title, value, log_x, minimize in AXES:
            series: dict[str, list[dict]] = {}
            for s in scores:
                m, c = models.get(s["model_id"]), cells.get(s["model_id"])
                x = value(c) if c else None
                if m is None or x is None or (log_x and x <= 0):
                    continue
                series.setdefault(m["family"], []).append(
                    {"x": x, "y": s["mean"], "ci_low": s["ci_low"], "ci_high": s["ci_high"], "hover": _point_hover(m, s, c)}
                )
            fig = None
            axis_refs = [r if key == "usd" else {**r, "x": None} for r in refs]  # only prices are published
            if series or (key == "usd" and any(r["x"] for r in refs)):
                fig = figures.tradeoff(f"{suite}: quality vs {title.split(' (')[0]}", series, axis_refs, title,
                                       log_x=log_x, minimize_x=minimize, styles=styles)  # fmt: skip
            charts.append({"id": f"tradeoff-{key}-{suite}", "key": key, "title": title, "figure": fig})
        n_items = sum(s["n"] for s in scores)
        sections.append({"suite": suite, "charts": charts, "n_models": len(scores), "n_items": n_items,
                         "n_unmeasured": sum(1 for s in scores if s["model_id"] not in cells), "n_refs": len(refs)})  # fmt: skip
    return sections


def ladder(data: SiteData) -> dict:
    """Quality against bits per weight per suite (a line per model family) and KL against bits per weight."""
    styles = family_styles(data)
    models = data.model_by_id
    quality = []
    for suite in data.suites:
        series: dict[str, list[dict]] = {}
        for s in (s for s in data.suite_scores if s["suite"] == suite):
            m = models.get(s["model_id"])
            if m and is_num(m.get("bits_per_weight")):
                series.setdefault(m["family"], []).append({
                    "x": m["bits_per_weight"], "y": s["mean"], "ci_low": s["ci_low"], "ci_high": s["ci_high"],
                    "hover": hover(m["label"], f"{m.get('quant_type') or '?'} · {m['bits_per_weight']:.2f} bits/weight",
                                   f"{suite}: {_score_text(s)}"),
                })  # fmt: skip
        fig = figures.lines(f"{suite}: quality vs bits per weight", series, styles, "bits per weight", "quality (mean item score)") if series else None
        quality.append({"suite": suite, "id": f"ladder-quality-{suite}", "figure": fig})
    return {"quality": quality, "kl": _kl_figure(data, styles), "rows": _ladder_rows(data)}


def _ladder_rows(data: SiteData) -> list[dict]:
    models = data.model_by_id
    rows = []
    for r in data.ladder:
        m, src = models.get(r["model_id"], {}), models.get(r["source_model_id"], {})
        rows.append({**r, "label": m.get("label", r["model_id"][:12]), "slug": m.get("slug"), "source_label": src.get("label", r["source_model_id"][:12]),
                     "bpw": r.get("bits_per_weight") or m.get("bits_per_weight")})  # fmt: skip
    return rows


def _kl_figure(data: SiteData, styles: dict) -> dict | None:
    series: dict[str, list[dict]] = {}
    for r in _ladder_rows(data):
        if not (is_num(r.get("kl_divergence")) and is_num(r.get("bpw"))) or r["model_id"] == r["source_model_id"]:
            continue
        fam = data.model_by_id.get(r["source_model_id"], {}).get("family") or r["source_label"]
        series.setdefault(fam, []).append({
            "x": r["bpw"], "y": r["kl_divergence"],
            "hover": hover(r["label"], f"{r.get('quant_type') or '?'} · {r['bpw']:.2f} bits/weight",
                           f"KL divergence {r['kl_divergence']:.4g} vs {r['source_label']}",
                           f"top-1 agreement {pct(r.get('top1_agreement'))} · perplexity {r.get('perplexity') or float('nan'):.3g}"),
        })  # fmt: skip
    if not series:
        return None
    styles = {**styles, **{k: figures.style(len(styles) + i) for i, k in enumerate(series) if k not in styles}}
    log_y = all(p["y"] > 0 for pts in series.values() for p in pts)
    return figures.lines("KL divergence from the source model vs bits per weight", series, styles, "bits per weight",
                         "mean KL divergence (nats, log scale)" if log_y else "mean KL divergence (nats)", log_y=log_y, y_pct=False)  # fmt: skip


def knob_curves(data: SiteData, pattern: str, x_title: str, what: str, log_x: bool = False) -> list[dict]:
    """Per suite whose subsets are named like ``pattern`` (one integer group): score against that integer, a line per model."""
    rx = re.compile(pattern)
    styles = model_styles(data)
    models = data.model_by_id
    by_suite: dict[str, dict[str, list[dict]]] = {}
    for s in data.subset_scores:
        match = rx.fullmatch(s["subset"])
        m = models.get(s["model_id"])
        if not match or m is None:
            continue
        x = int(match.group(1))
        by_suite.setdefault(s["suite"], {}).setdefault(m["label"], []).append({
            "x": x, "y": s["mean"], "ci_low": s["ci_low"], "ci_high": s["ci_high"],
            "hover": hover(m["label"], f"{s['suite']} · {s['subset']}", f"{what}: {_score_text(s)}"),
        })  # fmt: skip
    out = []
    for suite, series in sorted(by_suite.items()):
        xs = [p["x"] for pts in series.values() for p in pts]
        log = log_x and min(xs) > 0 and max(xs) / min(xs) >= 8
        fig = figures.lines(f"{suite}: {what} vs {x_title}", series, styles, x_title + (" (log scale)" if log else ""),
                            what, log_x=log)  # fmt: skip
        if not log and max(xs) - min(xs) <= 16:
            fig["layout"]["xaxis"]["dtick"] = 1
        out.append({"suite": suite, "id": f"knob-{suite}", "figure": fig, "n_models": len(series)})
    return out


def mmlu_heatmap(data: SiteData, suite: str = "mmlu") -> dict | None:
    scores = [s for s in data.subset_scores if s["suite"] == suite]
    if not scores:
        return None
    models = data.model_by_id
    labels = {s["model_id"]: models[s["model_id"]]["label"] for s in scores if s["model_id"] in models}
    cell = {(s["model_id"], s["subset"]): s for s in scores}
    subjects = sorted({s["subset"] for s in scores})
    mean = {sub: _avg([s["mean"] for s in scores if s["subset"] == sub]) for sub in subjects}
    subjects.sort(key=lambda sub: -mean[sub])
    ids = sorted(labels, key=lambda mid: -_avg([s["mean"] for s in scores if s["model_id"] == mid]))
    z, text = [], []
    for mid in ids:
        row_z, row_t = [], []
        for sub in subjects:
            s = cell.get((mid, sub))
            row_z.append(s["mean"] if s else None)
            row_t.append(hover(labels[mid], sub.replace("_", " "), _score_text(s)) if s else hover(labels[mid], sub, "not run"))
        z.append(row_z)
        text.append(row_t)
    cols = [s.replace("_", " ") for s in subjects]
    fig = figures.heatmap(f"{suite}: accuracy per subject (latest result per item)", [labels[i] for i in ids], cols, z, text)
    return {"id": f"heatmap-{suite}", "figure": fig, "n_models": len(ids), "n_subjects": len(subjects)}


def _avg(values: list) -> float:
    vals = [v for v in values if is_num(v)]
    return sum(vals) / len(vals) if vals else 0.0
