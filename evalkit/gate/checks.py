"""Gates beside quality, each with its own tolerance: new errors or crashes, speed, peak RAM.

Speed and RAM come from the ``cells`` table (one row per run × model). Where a
side has no measurement the check reports "not measured" and does not fail; speed
and RAM measured on different CPUs or thread counts are "not comparable".
"""

from __future__ import annotations

from evalkit.gate.compare import FAIL, PASS, Check, GateSettings, crashed_cell
from evalkit.gate.refs import Side

NOT_MEASURED, NOT_COMPARABLE = "not measured", "not comparable"

# Only the micro-benchmark (evalkit run --bench: pp512, tg128) is a controlled measurement. The speeds seen
# during the suites (cells.suite_pp_tps / suite_tg_tps) depend on the workload itself (prompt lengths, how many
# tokens a sampled answer ran to), so two runs of one model with different seeds differ by 20-30%: not gated.
SPEEDS = (("prompt speed", "pp_tps"), ("generation speed", "tg_tps"))


def error_check(baseline: Side, candidate: Side, settings: GateSettings) -> Check:
    """Items that error in the candidate but not in the baseline, and a crashed candidate cell."""
    errored_b = {o.key for o in baseline.items if o.error is not None}
    new = sum(1 for o in candidate.items if o.error is not None and o.key not in errored_b)
    fixed = len(errored_b - {o.key for o in candidate.items if o.error is not None})
    n_b, n_c = len(errored_b), sum(1 for o in candidate.items if o.error is not None)
    if crashed_cell(candidate) and not crashed_cell(baseline):
        error = str((candidate.cell or {}).get("error") or "no reason stored")
        return Check("errors / crashes", n_b, n_c, FAIL, f"candidate crashed: {error[:160]}", "items")
    if new > settings.max_new_errors:
        first = next(o for o in candidate.items if o.error is not None and o.key not in errored_b)
        reason = f"{new} new item errors (> {settings.max_new_errors}); first: {first.suite}/{first.item_id}: {first.error[:120]}"
        return Check("errors / crashes", n_b, n_c, FAIL, reason, "items")
    reason = f"{new} new item errors (tolerance {settings.max_new_errors})" + (f", {fixed} fixed" if fixed else "")
    return Check("errors / crashes", n_b, n_c, PASS, reason, "items")


def _measure(side: Side, key: str) -> float | None:
    value = (side.cell or {}).get(key)
    return float(value) if isinstance(value, (int, float)) and value == value and value > 0 else None


def speed_checks(baseline: Side, candidate: Side, settings: GateSettings) -> list[Check]:
    out = []
    for name, key in SPEEDS:
        b, c = _measure(baseline, key), _measure(candidate, key)
        label = f"{name} ({key})"
        if b is None or c is None:
            missing = " and ".join(r for r, v in (("baseline", b), ("candidate", c)) if v is None)
            out.append(Check(label, b, c, NOT_MEASURED, f"no micro-benchmark for the {missing} (evalkit run --bench)", "tok/s"))
            continue
        ratio = c / b
        why = _incomparable(baseline, candidate)
        if why:
            out.append(Check(label, b, c, NOT_COMPARABLE, why, "tok/s", ratio))
        elif ratio < settings.min_speed_ratio:
            out.append(Check(label, b, c, FAIL, f"{ratio:.2f}× the baseline (< {settings.min_speed_ratio:g}×)", "tok/s", ratio))
        else:
            out.append(Check(label, b, c, PASS, f"{ratio:.2f}× the baseline (≥ {settings.min_speed_ratio:g}×)", "tok/s", ratio))
    return out


def _incomparable(baseline: Side, candidate: Side) -> str:
    cpu_b, cpu_c = baseline.cpu(), candidate.cpu()
    if cpu_b and cpu_c and cpu_b != cpu_c:
        return f"measured on different CPUs ({cpu_b} vs {cpu_c})"
    tb, tc = (baseline.cell or {}).get("threads"), (candidate.cell or {}).get("threads")
    if tb and tc and tb != tc:
        return f"measured with different thread counts ({tb} vs {tc})"
    return ""


def ram_check(baseline: Side, candidate: Side, settings: GateSettings) -> Check:
    b, c = _measure(baseline, "peak_rss_bytes"), _measure(candidate, "peak_rss_bytes")
    name = "peak RAM"
    if b is None or c is None:
        missing = " and ".join(r for r, v in (("baseline", b), ("candidate", c)) if v is None)
        return Check(name, b, c, NOT_MEASURED, f"no peak_rss_bytes for the {missing}", "bytes")
    ratio = c / b
    limit = 1 + settings.max_ram_increase
    why = _incomparable(baseline, candidate)  # repacked weights and per-thread buffers differ by CPU and threads
    if why:
        return Check(name, b, c, NOT_COMPARABLE, why, "bytes", ratio)
    if ratio > limit:
        return Check(name, b, c, FAIL, f"{100 * (ratio - 1):+.1f}% (> +{100 * settings.max_ram_increase:g}%)", "bytes", ratio)
    return Check(name, b, c, PASS, f"{100 * (ratio - 1):+.1f}% (≤ +{100 * settings.max_ram_increase:g}%)", "bytes", ratio)
