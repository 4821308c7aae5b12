"""Metrics of one subset from its stored item rows: accuracy, macro-F1 with its confusion matrix,
entity / field F1, valid-JSON rate, mean score. The suite's ``metrics`` list picks them, headline first.
"""

from __future__ import annotations

import json

from evalkit.errors import ConfigError, did_you_mean
from evalkit.metrics import accuracy_row, bootstrap_ci, confusion_counts, f1_from_counts, macro_f1, wilson_interval

GENERIC = ("accuracy", "macro_f1", "mean_score")
COUNTED = {  # metric → (count keys in the scorer's details, which of precision/recall/F1)
    "entity_f1": (("tp", "n_pred", "n_gold"), 2),
    "entity_precision": (("tp", "n_pred", "n_gold"), 0),
    "entity_recall": (("tp", "n_pred", "n_gold"), 1),
    "field_f1": (("tp", "fp", "fn"), 2),
    "field_precision": (("tp", "fp", "fn"), 0),
    "field_recall": (("tp", "fp", "fn"), 1),
}
KNOWN = (*GENERIC, *COUNTED, "valid_json")


def details_of(row: dict) -> dict:
    d = row.get("details")
    if isinstance(d, str):
        try:
            d = json.loads(d)
        except ValueError:
            d = {}
    return d or {}


def metric_names(suite) -> list[str]:
    if suite.suite.metrics:
        return list(suite.suite.metrics)
    if suite.suite.kind == "choice" or not suite.scorers:
        return ["accuracy"]
    from evalkit.scorers import scorer_class

    return list(scorer_class(suite.scorers[0].name).metrics)


def _scorer_key(suite, metric: str) -> str | None:
    from evalkit.scorers import build_scorers

    for key, scorer in build_scorers(suite):
        if metric in scorer.metrics:
            return key
    return None


def check_metrics(suite) -> None:
    for m in suite.suite.metrics:
        if m not in KNOWN:
            raise ConfigError(did_you_mean(m, KNOWN, "metric") + ". Fix [suite] metrics")
        if m not in GENERIC and _scorer_key(suite, m) is None:
            raise ConfigError(f"metric '{m}' needs a scorer that produces it (e.g. entity_f1, json_fields). Fix [[scorers]]")


def _row(metric: str, value: float, ci: tuple[float, float], n: int, **extra) -> dict:
    return {"metric": metric, "value": value, "ci_low": ci[0], "ci_high": ci[1], "n": n, **extra}


def _counted(metric: str, rows: list[dict], key: str) -> dict:
    import numpy as np

    names, which = COUNTED[metric]
    counts = np.array([[details_of(r).get("scores", {}).get(key, {}).get(k, 0) for k in names] for r in rows], float)
    if metric.startswith("field"):  # tp, fp, fn → tp, predicted, gold
        counts = np.stack([counts[:, 0], counts[:, 0] + counts[:, 1], counts[:, 0] + counts[:, 2]], axis=1)

    def stat(idx):
        tp, n_pred, n_gold = counts[idx].sum(axis=0)
        return f1_from_counts(tp, n_pred, n_gold)[which]

    tp, n_pred, n_gold = counts.sum(axis=0) if len(rows) else (0, 0, 0)
    details = {"tp": int(tp), "predicted": int(n_pred), "gold": int(n_gold)}
    if metric == "entity_f1":
        details["per_type"] = _per_type(rows, key)
    return _row(metric, stat(np.arange(len(rows))) if rows else float("nan"), bootstrap_ci(stat, len(rows)), len(rows), details=details)


def _per_type(rows: list[dict], key: str) -> dict:
    """Entity type → [tp, predicted, gold, F1] summed over the items."""
    sums: dict[str, list[int]] = {}
    for r in rows:
        for kind, counts in details_of(r).get("scores", {}).get(key, {}).get("per_type", {}).items():
            acc = sums.setdefault(kind, [0, 0, 0])
            for i in range(3):
                acc[i] += int(counts[i])
    return {k: [*v, f1_from_counts(*v)[2]] for k, v in sorted(sums.items())}


def _macro_f1(rows: list[dict], suite) -> dict:
    """Macro-F1 over the label set (labels seen in gold or prediction), bootstrapped on integer codes."""
    import numpy as np

    golds = [r["target"] for r in rows]
    preds = [r["prediction"] for r in rows]
    universe = list(suite.labels) or sorted(set(golds))
    code = {lab: i for i, lab in enumerate(universe)}
    L = len(universe)
    g = np.array([code.get(x, L) for x in golds])
    p = np.array([code.get(x, L) for x in preds])

    def stat(idx):
        gi, pi = g[idx], p[idx]
        tp = np.bincount(gi[gi == pi], minlength=L + 1)[:L]
        total = np.bincount(gi, minlength=L + 1)[:L] + np.bincount(pi, minlength=L + 1)[:L]
        present = total > 0
        return float((2 * tp[present] / total[present]).mean()) if present.any() else float("nan")

    value, per = macro_f1(golds, preds, universe)
    ci = bootstrap_ci(stat, len(rows))
    return _row("macro_f1", value, ci, len(rows), details={"per_label": per}, confusion=confusion_counts(golds, preds))


def _one(metric: str, rows: list[dict], suite) -> dict:
    if metric == "accuracy":
        return accuracy_row([bool(r["correct"]) for r in rows])
    if metric == "macro_f1":
        return _macro_f1(rows, suite)
    if metric == "mean_score":
        import numpy as np

        s = np.array([r["score"] if r["score"] is not None else 0.0 for r in rows], float)
        mean = float(s.mean()) if len(s) else float("nan")
        return _row("mean_score", mean, bootstrap_ci(lambda idx: float(s[idx].mean()), len(s)), len(s))
    key = _scorer_key(suite, metric)
    if metric == "valid_json":
        ok = sum(1 for r in rows if details_of(r).get("scores", {}).get(key, {}).get("valid_json"))
        return _row("valid_json", ok / len(rows) if rows else float("nan"), wilson_interval(ok, len(rows)), len(rows))
    return _counted(metric, rows, key)


def summarize_rows(suite, rows: list[dict]) -> list[dict]:
    """One metric dict per metric of the suite, headline first."""
    return [_one(m, rows, suite) for m in metric_names(suite)]
