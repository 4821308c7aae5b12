"""False-alarm rate of `evalkit gate` at its default settings, on simulated per-item data with NO true difference.

Each replication simulates a baseline and a candidate on the same n items whose two
outcomes are exchangeable (same model, different seed / machine noise), runs the
gate's own decision (evalkit.gate.compare.decide on the gate's own tests) and counts
failures. A gate whose defaults fire more often than alpha here would be noise.

Binary outcomes (McNemar's exact test): per-item difficulty p_i ~ Beta with mean
`acc`; with probability `flip` an item's two outcomes are independent Bernoulli(p_i)
draws, else both sides share one draw. The rate is also computed exactly.
Continuous scores, two shapes (F1-like: 40% zeros, 30% ones, the rest uniform, plus
N(0, 0.2) noise per side, clipped to [0, 1]; skewed: identical scores except 10% of
items per side re-drawn): the gate's paired randomization test, and for comparison
the plain (shift) and studentized bootstrap tests.

    python benchmarks/gate_false_alarms.py            # full run (20-40 minutes on 2 cores)
    python benchmarks/gate_false_alarms.py --quick    # a smoke run (about a minute)
Writes benchmarks/results/gate_false_alarms.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from pathlib import Path

import numpy as np
from scipy.stats import binom

from evalkit.gate.compare import GateSettings, decide
from evalkit.gate.stats import PairedResult, compare_scores

OUT = Path(__file__).parent / "results" / "gate_false_alarms.json"


CONC = 4.0  # Beta concentration: item difficulties spread around acc


def binary_rate(n: int, acc: float, flip: float, reps: int, rng: np.random.Generator, s: GateSettings) -> float:
    """Share of replications the gate fails (vectorized McNemar; same rule as evalkit.gate.compare.decide)."""
    chunk = max(1, 2_000_000 // n)
    fails = sum(_binary_fails(n, acc, flip, min(chunk, reps - lo), rng, s) for lo in range(0, reps, chunk))
    return fails / reps


def _binary_fails(n: int, acc: float, flip: float, reps: int, rng: np.random.Generator, s: GateSettings) -> int:
    p = rng.beta(acc * CONC, (1 - acc) * CONC, size=(reps, n))
    shared = rng.random((reps, n)) < p
    indep = rng.random((reps, n)) < flip
    a = np.where(indep, rng.random((reps, n)) < p, shared)
    b = np.where(indep, rng.random((reps, n)) < p, shared)
    lost = np.sum(a & ~b, axis=1)
    gained = np.sum(~a & b, axis=1)
    pval = np.where(lost + gained > 0, binom.sf(lost - 1, lost + gained, 0.5), 1.0)
    drop_pp = 100 * (lost - gained) / n
    return int(np.sum((drop_pp > s.max_drop) & (pval < s.alpha)))


def binary_exact_rate(n: int, acc: float, flip: float, s: GateSettings) -> float:
    """The same false-alarm probability computed exactly, without simulation noise.

    An item is discordant with probability psi = flip * E[2 p (1 - p)] (p ~ Beta), so the
    number of flipped items is D ~ Binomial(n, psi); with no true difference each flip
    is a loss with probability 1/2, so lost | D ~ Binomial(D, 1/2).
    """
    a, b = acc * CONC, (1 - acc) * CONC
    e_pq = a * b / ((a + b) * (a + b + 1))  # E[p (1 - p)] for Beta(a, b)
    psi = flip * 2 * e_pq
    total = 0.0
    for d in range(1, n + 1):
        lost = np.arange(d + 1)
        fails = (100 * (2 * lost - d) / n > s.max_drop) & (binom.sf(lost - 1, d, 0.5) < s.alpha)
        total += binom.pmf(d, n, psi) * float(np.sum(binom.pmf(lost[fails], d, 0.5)))
    return total


def check_decide_agrees(s: GateSettings) -> None:
    """The vectorized rule above is the gate's rule: spot-check it against decide()."""
    for lost, gained, n in ((9, 1, 100), (3, 0, 20), (30, 18, 200)):
        p = float(binom.sf(lost - 1, lost + gained, 0.5))
        res = PairedResult("mcnemar_exact", n, 0, 0, (gained - lost) / n, 0, 0, lost, gained, p)
        fails = decide(res, s)[0] == "fail"
        assert fails == ((100 * (lost - gained) / n > s.max_drop) and p < s.alpha)


def f1_pair(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """F1-like scores: 40% of items near 0, 30% near 1, the rest anywhere; N(0, 0.2) noise per side."""
    u = rng.random(n)
    level = np.where(u < 0.4, 0.0, np.where(u < 0.7, 1.0, rng.random(n)))
    return (np.clip(level + rng.normal(0, 0.2, n), 0, 1), np.clip(level + rng.normal(0, 0.2, n), 0, 1))


def skewed_pair(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Mostly identical scores; on each side 10% of items get a fresh uniform score (few, large changes)."""
    level = rng.random(n)
    a, b = level.copy(), level.copy()
    ma, mb = rng.random(n) < 0.1, rng.random(n) < 0.1
    a[ma], b[mb] = rng.random(int(ma.sum())), rng.random(int(mb.sum()))
    return a, b


PAIRS = {"f1": f1_pair, "skewed": skewed_pair}


def continuous_rate(n: int, reps: int, test: str, data: str, rng: np.random.Generator, s: GateSettings) -> float:
    fails = 0
    for r in range(reps):
        a, b = PAIRS[data](n, rng)
        res = compare_scores(a, b, s.ci_level, s.resamples, seed=r, test=test)
        fails += decide(res, s)[0] == "fail"
    return fails / reps


def se(rate: float, reps: int) -> float:
    return math.sqrt(max(rate * (1 - rate), 1e-12) / reps)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps-binary", type=int, default=20000)
    ap.add_argument("--reps-continuous", type=int, default=10000, help="for the default test; the bootstrap tests get a fifth")
    ap.add_argument("--recheck", nargs=3, metavar=("DATA", "N", "REPS"),
                    help="only re-measure the default test on one continuous setting with more replications; "
                    "the result is added to the recorded JSON under 'rechecks'")
    args = ap.parse_args()
    s = GateSettings()
    if args.recheck:
        return recheck(args.recheck[0], int(args.recheck[1]), int(args.recheck[2]), s)
    check_decide_agrees(s)
    rng = np.random.default_rng(20240601)
    reps_b, reps_c = (2000, 200) if args.quick else (args.reps_binary, args.reps_continuous)
    t0 = time.time()
    binary = []
    for n in (20, 50, 100, 200, 500, 1000):
        for acc in (0.3, 0.6, 0.9):
            for flip in (0.05, 0.2, 0.5, 1.0):
                rate = binary_rate(n, acc, flip, reps_b, rng, s)
                exact = binary_exact_rate(n, acc, flip, s)
                binary.append({"n": n, "accuracy": acc, "flip": flip, "reps": reps_b, "rate": rate, "se": se(rate, reps_b),
                               "exact": exact})
    continuous = []
    for data in PAIRS:
        for n in (20, 50, 100, 200):
            for test in ("signflip", "shift", "bootstrap_t"):
                reps = reps_c if test == "signflip" else max(reps_c // 5, 100)
                rate = continuous_rate(n, reps, test, data, rng, s)
                continuous.append({"data": data, "n": n, "test": test, "reps": reps, "rate": rate, "se": se(rate, reps)})
    result = {
        "settings": {"max_drop": s.max_drop, "alpha": s.alpha, "resamples": s.resamples},
        "binary": binary, "continuous": continuous, "seconds": round(time.time() - t0, 1),
        "machine": platform.processor() or platform.machine(), "quick": args.quick,
        "max_binary_rate": max(r["rate"] for r in binary),
        "max_binary_exact": max(r["exact"] for r in binary),
        "max_default_continuous_rate": max(r["rate"] for r in continuous if r["test"] == "signflip"),
    }  # fmt: skip
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=1))
    print_tables(result)


def recheck(data: str, n: int, reps: int, s: GateSettings) -> None:
    rng = np.random.default_rng(n * 7919 + reps)
    t0 = time.time()
    rate = continuous_rate(n, reps, "signflip", data, rng, s)
    result = json.loads(OUT.read_text())
    entry = {"data": data, "n": n, "test": "signflip", "reps": reps, "rate": rate, "se": se(rate, reps),
             "seconds": round(time.time() - t0, 1)}  # fmt: skip
    result.setdefault("rechecks", []).append(entry)
    OUT.write_text(json.dumps(result, indent=1))
    print(f"recheck {data} n={n}: {100 * rate:.2f}% ± {100 * entry['se']:.2f} over {reps} replications")


def print_tables(result: dict) -> None:
    reps = result["binary"][0]["reps"]
    print(f"binary (McNemar exact): false-alarm rate simulated ({reps} reps) / exact, max over accuracy 0.3, 0.6, 0.9")
    print("| n | flip 5% | flip 20% | flip 50% | flip 100% |\n|---:|---:|---:|---:|---:|")
    for n in sorted({r["n"] for r in result["binary"]}):
        cells = []
        for f in (0.05, 0.2, 0.5, 1.0):
            rows = [r for r in result["binary"] if r["n"] == n and r["flip"] == f]
            cells.append(f"{100 * max(r['rate'] for r in rows):.2f}% / {100 * max(r['exact'] for r in rows):.2f}%")
        print(f"| {n} | " + " | ".join(cells) + " |")
    print("\ncontinuous scores: false-alarm rate ± its standard error, by test")
    print("| data | n | randomization (default) | bootstrap (shift) | bootstrap-t |\n|---|---:|---:|---:|---:|")
    for data in PAIRS:
        for n in sorted({r["n"] for r in result["continuous"]}):
            row = {r["test"]: r for r in result["continuous"] if r["n"] == n and r["data"] == data}
            cells = [f"{100 * row[t]['rate']:.2f}% ± {100 * row[t]['se']:.2f}" for t in ("signflip", "shift", "bootstrap_t")]
            print(f"| {data} | {n} | " + " | ".join(cells) + " |")
    print(f"\nmax binary {100 * result['max_binary_rate']:.2f}% simulated, {100 * result['max_binary_exact']:.2f}% exact; "
          f"max continuous (default) "
          f"{100 * result['max_default_continuous_rate']:.2f}%; {result['seconds']} s")  # fmt: skip


if __name__ == "__main__":
    main()
