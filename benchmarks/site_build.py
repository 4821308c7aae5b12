"""Time `evalkit site build` on a SYNTHETIC database of 200 runs and 500,000 item rows, and weigh its pages.

    python benchmarks/site_build.py [--runs 200] [--items 500000] [--repeat 3] [--db PATH]

The database comes from benchmarks/site_synth.py (invented rows, for timing only). Each build runs the real
CLI in a subprocess (`python -m evalkit site build`), into the same --out folder, so builds 2..N also swap
out the previous site, as a real rebuild does. Reported: median wall time and median CPU time (user + sys
of the build process and its threads), the machine's load average (the machine may be shared), and the
heaviest page: its HTML plus the local CSS/JS it loads, without Plotly's script (shared by every chart page)
and without the item browser's data files (loaded on demand, reported separately).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def build_once(db: Path, out: Path) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "evalkit", "site", "build", "--db", str(db), "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"build failed: {proc.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def page_weights(site: Path) -> dict:
    """Bytes per HTML page including the local assets it references, except plotly.min.js."""
    weights = {}
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        total = len(html.encode("utf-8"))
        for ref in re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html):
            if ref.endswith("plotly.min.js"):
                continue
            total += (page.parent / ref).resolve().stat().st_size
        weights[str(page.relative_to(site))] = total
    return weights


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--items", type=int, default=500_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--db", type=Path, help="reuse this synthetic database instead of generating one")
    args = ap.parse_args()
    from site_synth import make_db

    work = Path(tempfile.mkdtemp(prefix="evalkit-site-bench-"))
    db = args.db or work / "synthetic.duckdb"
    if not args.db:
        t = time.perf_counter()
        info = make_db(db, args.runs, args.items)
        print(f"SYNTHETIC database: {info} ({time.perf_counter() - t:.1f} s to generate, not part of the timing)")
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        n_runs, n_items = con.execute("SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM items)").fetchone()
    out = work / "site"
    loads, walls, cpus = [os.getloadavg()[0]], [], []
    for i in range(args.repeat):
        wall, cpu = build_once(db, out)
        walls.append(wall)
        cpus.append(cpu)
        loads.append(os.getloadavg()[0])
        print(f"build {i + 1}: wall {wall:.1f} s, cpu {cpu:.1f} s, load average {loads[-1]:.1f}")
    weights = page_weights(out)
    heaviest = max(weights, key=weights.get)
    item_files = list((out / "items").rglob("*.js"))
    result = {
        "runs": n_runs, "item_rows": n_items, "repeat": args.repeat,
        "wall_s_median": round(statistics.median(walls), 2), "cpu_s_median": round(statistics.median(cpus), 2),
        "wall_s": [round(w, 2) for w in walls], "cpu_s": [round(c, 2) for c in cpus],
        "load_average_1min": [round(x, 1) for x in loads], "cores": os.cpu_count(),
        "pages": len(weights), "heaviest_page": heaviest, "heaviest_page_bytes": weights[heaviest],
        "plotly_js_bytes": (out / "assets" / "plotly.min.js").stat().st_size,
        "item_files": len(item_files), "largest_item_file_bytes": max((p.stat().st_size for p in item_files), default=0),
        "site_bytes": sum(p.stat().st_size for p in out.rglob("*") if p.is_file()),
    }  # fmt: skip
    print(json.dumps(result, indent=2))
    ok = result["wall_s_median"] < 30 and result["heaviest_page_bytes"] < 3_000_000
    print(f"target (< 30 s, every page < 3 MB besides Plotly): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
