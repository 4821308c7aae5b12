"""Power of `evalkit gate` (default settings) to catch a true drop, by number of paired items n.

Computed exactly for correct/incorrect items (McNemar's exact test plus the
--max-drop tolerance), so the table has no simulation noise. Model: besides the
regression, a share `noise` of items flips for unrelated reasons (half each way);
the regression adds `drop` extra losses. So an item is lost with probability
noise/2 + drop and gained with probability noise/2, and the number of flipped items
is D ~ Binomial(n, noise + drop), the losses among them Binomial(D, q).

    python benchmarks/gate_power.py
Writes benchmarks/results/gate_power.json and prints Markdown tables (used in docs/gate.md).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from scipy.stats import binom

from evalkit.gate.compare import GateSettings

OUT = Path(__file__).parent / "results" / "gate_power.json"
NS = (50, 100, 200, 300, 500, 1000, 2000)
DROPS = (0.01, 0.02, 0.03, 0.05, 0.10, 0.20)
NOISES = (0.10, 0.30)


def power(n: int, drop: float, noise: float, s: GateSettings) -> float:
    psi = noise + drop
    q = (noise / 2 + drop) / psi
    lo, hi = (int(x) for x in binom.ppf([1e-9, 1 - 1e-9], n, psi))
    total = 0.0
    for d in range(max(lo, 1), min(hi, n) + 1):
        lost = np.arange(d + 1)
        fails = (100 * (2 * lost - d) / n > s.max_drop) & (binom.sf(lost - 1, d, 0.5) < s.alpha)
        total += binom.pmf(d, n, psi) * float(np.sum(binom.pmf(lost[fails], d, q)))
    return total


def smallest_drop(n: int, noise: float, s: GateSettings, target: float = 0.8) -> float:
    """The smallest true drop (pp, 0.5 pp steps) caught with at least *target* probability."""
    for tenth in range(5, 1000, 5):
        if power(n, tenth / 1000, noise, s) >= target:
            return tenth / 10
    return float("nan")


def main() -> None:
    s = GateSettings()
    t0 = time.time()
    table = {f"{noise:g}": {str(n): {f"{d:g}": round(power(n, d, noise, s), 4) for d in DROPS} for n in NS} for noise in NOISES}
    mdd = {f"{noise:g}": {str(n): smallest_drop(n, noise, s) for n in NS} for noise in NOISES}
    result = {"settings": {"max_drop": s.max_drop, "alpha": s.alpha}, "power": table, "drop_for_80pct_power_pp": mdd,
              "seconds": round(time.time() - t0, 1)}  # fmt: skip
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=1))
    for noise in NOISES:
        key = f"{noise:g}"
        print(f"\nnoise flips {100 * noise:g}% of items: probability that the gate fails")
        print("| n | " + " | ".join(f"drop {100 * d:g} pp" for d in DROPS) + " | 80% power from |")
        print("|---:|" + "---:|" * (len(DROPS) + 1))
        for n in NS:
            cells = [f"{100 * table[key][str(n)][f'{d:g}']:.0f}%" for d in DROPS]
            print(f"| {n} | " + " | ".join(cells) + f" | {mdd[key][str(n)]:g} pp |")
    print(f"\n{result['seconds']} s")


if __name__ == "__main__":
    main()
