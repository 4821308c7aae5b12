"""Pair a baseline's and a candidate's items and decide, per suite, whether quality really dropped.

A suite fails when its drop exceeds ``max_drop`` percentage points AND the drop is
significant at ``alpha`` (one-sided). Anything that would make that comparison
meaningless (different suite versions, item sets that barely overlap, too few
items) raises :class:`~evalkit.errors.ConfigError` instead of passing silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from evalkit.errors import ConfigError
from evalkit.gate.refs import Outcome, Side
from evalkit.gate.stats import PairedResult, compare_binary, compare_scores, items_needed

PASS, FAIL = "pass", "fail"
NOT_COMPARED = "not compared"


@dataclass(frozen=True)
class GateSettings:
    """Tolerances and test settings (the CLI's options)."""

    suites: tuple[str, ...] = ()
    max_drop: float = 1.0  # percentage points of the suite's mean score (accuracy)
    alpha: float = 0.05  # one-sided significance level of a drop
    min_items: int = 20  # fewest paired items per suite for a meaningful test
    min_overlap: float = 0.9  # share of the larger item set that both sides must share
    max_new_errors: int = 0  # items that error in the candidate but not in the baseline
    min_speed_ratio: float = 0.8  # candidate tokens/s over baseline tokens/s
    max_ram_increase: float = 0.10  # allowed rise of peak RSS, as a fraction
    resamples: int = 10_000  # bootstrap / randomization resamples for continuous scores
    seed: int = 0
    allow_suite_change: bool = False  # pair items by id even if suite version or prompts differ

    @property
    def ci_level(self) -> float:
        return 1 - self.alpha


@dataclass
class SuiteCheck:
    suite: str
    version: str
    kind: str  # "binary" | "continuous"
    n_baseline: int
    n_candidate: int
    n_paired: int
    verdict: str
    reason: str
    result: PairedResult | None = None
    excluded_errors: int = 0
    prompt_changed: int = 0

    @property
    def drop_pp(self) -> float | None:
        return None if self.result is None else -100 * self.result.diff


@dataclass
class Check:
    """A non-quality check: new errors or crashes, speed, peak RAM."""

    name: str
    baseline: float | None
    candidate: float | None
    verdict: str  # pass | fail | not measured | not comparable
    reason: str
    unit: str = ""
    ratio: float | None = None


@dataclass
class GateReport:
    baseline: Side
    candidate: Side
    settings: GateSettings
    suites: list[SuiteCheck]
    checks: list[Check]
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(s.verdict != FAIL for s in self.suites) and all(c.verdict != FAIL for c in self.checks)

    def failures(self) -> list[str]:
        out = [f"{s.suite}: {s.reason}" for s in self.suites if s.verdict == FAIL]
        return out + [f"{c.name}: {c.reason}" for c in self.checks if c.verdict == FAIL]


def gate(baseline: Side, candidate: Side, settings: GateSettings) -> GateReport:
    """Compare *candidate* with *baseline*; raise ConfigError when the comparison would mean nothing."""
    from evalkit.gate.checks import error_check, ram_check, speed_checks

    _check_status(baseline, "baseline")
    _check_status(candidate, "candidate")
    crashed = crashed_cell(candidate)
    notes: list[str] = []
    suites = [compare_suite(name, baseline, candidate, settings, crashed, notes) for name in _suites(baseline, candidate, settings, crashed)]
    checks = [error_check(baseline, candidate, settings), *speed_checks(baseline, candidate, settings), ram_check(baseline, candidate, settings)]
    return GateReport(baseline, candidate, settings, suites, checks, notes)


def crashed_cell(side: Side) -> bool:
    return bool(side.cell) and side.cell.get("status") == "failed"


def _check_status(side: Side, role: str) -> None:
    if side.run_status not in ("complete", "None") and not crashed_cell(side):
        raise ConfigError(
            f"the {role} run {side.run_id} did not finish (status {side.run_status}): it is still running, was "
            "interrupted or failed. Gate a complete run (re-run the same command to finish it)."
        )


def _suites(baseline: Side, candidate: Side, settings: GateSettings, crashed: bool) -> list[str]:
    have_b = {o.suite for o in baseline.items}
    have_c = {o.suite for o in candidate.items}
    if settings.suites:
        for name in settings.suites:
            for role, have, side in (("baseline", have_b, baseline), ("candidate", have_c, candidate)):
                if name not in have and not (role == "candidate" and crashed):
                    raise ConfigError(
                        f"suite {name} is not in the {role} ({side.ref}; it has: {', '.join(sorted(have)) or 'nothing'}). "
                        "Fix --suite or run that suite."
                    )
        return list(settings.suites)
    only_b, only_c = sorted(have_b - have_c), sorted(have_c - have_b)
    if not have_b & have_c and not crashed:
        raise ConfigError(
            f"the baseline and the candidate share no suite (baseline: {', '.join(sorted(have_b)) or 'none'}; candidate: "
            f"{', '.join(sorted(have_c)) or 'none'}). Gate runs of the same suites."
        )
    if only_b and not crashed:
        raise ConfigError(
            f"suite {only_b[0]} is in the baseline but not in the candidate: run it for the candidate too, "
            f"or gate only the shared suites with --suite {' --suite '.join(sorted(have_b & have_c)) or 'NAME'}."
        )
    if only_c:
        raise ConfigError(
            f"suite {only_c[0]} is in the candidate but not in the baseline: add it to the baseline (re-export), "
            f"or gate only the shared suites with --suite {' --suite '.join(sorted(have_b & have_c)) or 'NAME'}."
        )
    return sorted(have_b | have_c)


def _value(o: Outcome) -> float | None:
    if o.error is not None:
        return None
    if o.score is not None:
        return float(o.score)
    return None if o.correct is None else float(o.correct)


def compare_suite(name: str, baseline: Side, candidate: Side, settings: GateSettings, crashed: bool,
                  notes: list[str]) -> SuiteCheck:  # fmt: skip
    """Pair one suite's items and test for a drop."""
    b = {o.key: o for o in baseline.items if o.suite == name}
    c = {o.key: o for o in candidate.items if o.suite == name}
    version = _version(name, baseline, candidate, settings, notes)
    shared = sorted(b.keys() & c.keys())
    base = SuiteCheck(name, version, "binary", len(b), len(c), len(shared), NOT_COMPARED, "")
    overlap = len(shared) / max(len(b), len(c), 1)
    if overlap < settings.min_overlap:
        if crashed:
            base.reason = f"candidate crashed after {len(c)} of {len(b)} items"
            return base
        raise ConfigError(
            f"only {len(shared)} items of suite {name} are in both runs ({100 * overlap:.0f}% of {max(len(b), len(c))}; "
            f"need {100 * settings.min_overlap:.0f}%): baseline has {len(b)} items in {_n_subsets(b)} subsets, candidate "
            f"{len(c)} in {_n_subsets(c)}. Run the candidate on the same subsets and --limit, or lower --min-overlap."
        )
    base.prompt_changed = _prompt_changes(name, shared, b, c, baseline, candidate, settings, notes)
    pairs = [(_value(b[k]), _value(c[k])) for k in shared]
    usable = [(x, y) for x, y in pairs if x is not None and y is not None]
    base.excluded_errors = len(pairs) - len(usable)
    cand_errors = sum(1 for x, y in pairs if x is not None and y is None)
    if not _enough(name, len(usable), settings, cand_errors, base):
        return base
    xs, ys = [x for x, _ in usable], [y for _, y in usable]
    if all(v in (0.0, 1.0) for v in xs + ys):
        res = compare_binary([x == 1.0 for x in xs], [y == 1.0 for y in ys], settings.ci_level)
    else:
        base.kind = "continuous"
        res = compare_scores(xs, ys, settings.ci_level, settings.resamples, settings.seed)
    base.result = res
    base.verdict, base.reason = decide(res, settings)
    return base


def _n_subsets(items: dict) -> int:
    return len({k[1] for k in items})


def _version(name: str, baseline: Side, candidate: Side, settings: GateSettings, notes: list[str]) -> str:
    vb = baseline.suites.get(name, {}).get("version", "?")
    vc = candidate.suites.get(name, {}).get("version", "?")
    if vb == vc:
        return vb
    if not settings.allow_suite_change:
        raise ConfigError(
            f"suite {name} is version {vb} in the baseline but {vc} in the candidate, so their scores are not comparable. "
            f"Re-export the baseline from a run of version {vc}, or pass --allow-suite-change to gate the change itself."
        )
    notes.append(f"{name}: suite version changed {vb} → {vc} (--allow-suite-change); items paired by id.")
    return f"{vb}→{vc}"


def _prompt_changes(name, shared, b, c, baseline: Side, candidate: Side, settings: GateSettings, notes) -> int:
    """Count paired items whose prompt hash differs; refuse the one case that means different questions.

    A prompt (or generation setting) change is often the very thing being gated: an
    edited template, another sampling seed, another --shots. All of those change the
    prompt of every item. Some items changing while the suite file stayed the same
    means the data behind those item ids changed: a different question under the
    same id, which must not be paired.
    """
    changed = sum(1 for k in shared if b[k].prompt_hash != c[k].prompt_hash)
    if not changed:
        return 0
    same_file = baseline.suites.get(name, {}).get("hash") == candidate.suites.get(name, {}).get("hash")
    if same_file and changed < len(shared) and not settings.allow_suite_change:
        raise ConfigError(
            f"{changed} of {len(shared)} paired items of suite {name} have different prompts although the suite file is "
            "the same: the data behind those item ids changed. Compare runs on the same data (re-export the baseline), "
            "or pass --allow-suite-change to pair them anyway."
        )
    why = "the suite file differs" if not same_file else "same suite file: other --shots or data?"
    notes.append(f"{name}: {changed} of {len(shared)} paired items have different prompts or generation settings ({why}); "
                 "gating the change.")  # fmt: skip
    return changed


def _enough(name: str, n: int, settings: GateSettings, cand_errors: int, check: SuiteCheck) -> bool:
    """Whether n paired items can mean anything; a shortfall caused by candidate errors is a failure, not misuse."""
    need = max(settings.min_items, items_needed(settings.alpha))
    if n >= need:
        return True
    if cand_errors and n + cand_errors >= need:
        check.reason = f"{cand_errors} candidate errors leave {n} comparable items (need {need})"
        return False
    floor = items_needed(settings.alpha)
    why = (f"even a drop on every item could not reach alpha {settings.alpha:g} with fewer than {floor}"
           if n < floor else f"--min-items is {settings.min_items}")  # fmt: skip
    raise ConfigError(
        f"suite {name} has only {n} comparable paired items, too few for the gate to mean anything ({why}). "
        f"Evaluate at least {need} items (raise --limit or add subsets), or lower --min-items."
    )


def decide(res: PairedResult, settings: GateSettings) -> tuple[str, str]:
    """FAIL when the drop exceeds the tolerance AND is significant; else PASS with the reason."""
    drop = -100 * res.diff
    significant = res.p_value < settings.alpha
    if drop > settings.max_drop and significant:
        return FAIL, f"dropped {drop:.1f} pp (> {settings.max_drop:g} pp), significant (p = {res.p_value:.2g} < {settings.alpha:g})"
    if drop <= 0:
        return PASS, "no drop" if drop == 0 else f"improved {-drop:.1f} pp"
    if drop <= settings.max_drop:
        return PASS, f"dropped {drop:.1f} pp, within the {settings.max_drop:g} pp tolerance"
    return PASS, f"dropped {drop:.1f} pp, not significant (p = {res.p_value:.2g} ≥ {settings.alpha:g}): noise"
