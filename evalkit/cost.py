"""What a token costs: a hardware profile for local models, a dated and sourced price table for API models.

Local model: the machine's cost per hour of inference, divided by the tokens it
processes per hour at the measured speed::

    usd_per_hour   = purchase_usd / (amortization_years * 8760 h * utilization)
                   + power_watts / 1000 * electricity_usd_per_kwh
    usd_per_mtok   = usd_per_hour / (tokens_per_second * 3600) * 1e6

Input tokens use the prompt-processing speed (pp), output tokens the generation
speed (tg). Every figure of the profile can be overridden in the run file's
``[cost]`` table or with ``evalkit run --cost-...`` options; docs/matrix.md lists
the defaults and why they were chosen.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from importlib import resources

from evalkit.errors import ConfigError

HOURS_PER_YEAR = 8760.0


@dataclass(frozen=True)
class HardwareProfile:
    """The machine a local model runs on, as a cost. Defaults: see docs/matrix.md (assumptions, not measurements)."""

    name: str = "default-laptop"
    purchase_usd: float = 1000.0  # a mid-range laptop or mini PC
    amortization_years: float = 3.0  # written off over three years
    power_watts: float = 45.0  # whole-machine draw under sustained CPU load
    electricity_usd_per_kwh: float = 0.17  # near the U.S. average residential price (EIA, 2023-2024)
    utilization: float = 0.5  # share of all hours the machine spends on inference

    def __post_init__(self):
        for key in ("purchase_usd", "power_watts", "electricity_usd_per_kwh"):
            if getattr(self, key) < 0:
                raise ConfigError(f"cost profile: {key} must be >= 0 (got {getattr(self, key)}).")
        if self.amortization_years <= 0:
            raise ConfigError(f"cost profile: amortization_years must be > 0 (got {self.amortization_years}).")
        if not 0 < self.utilization <= 1:
            raise ConfigError(f"cost profile: utilization must be in (0, 1] (got {self.utilization}).")

    def usd_per_hour(self) -> float:
        hardware = self.purchase_usd / (self.amortization_years * HOURS_PER_YEAR * self.utilization)
        energy = self.power_watts / 1000.0 * self.electricity_usd_per_kwh
        return hardware + energy

    def usd_per_mtok(self, tokens_per_second: float | None) -> float | None:
        """$ per million tokens at this speed; None when the speed is unknown or zero."""
        if not tokens_per_second or tokens_per_second <= 0 or math.isnan(tokens_per_second):
            return None
        return self.usd_per_hour() / (tokens_per_second * 3600.0) * 1e6

    def with_overrides(self, **overrides) -> HardwareProfile:
        """A copy with the given fields replaced (None values are ignored)."""
        known = set(asdict(self))
        bad = sorted(set(overrides) - known)
        if bad:
            raise ConfigError(f"unknown cost setting '{bad[0]}'. Allowed: {', '.join(sorted(known))}.")
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def as_dict(self) -> dict:
        return {**asdict(self), "usd_per_hour": self.usd_per_hour()}


def items_cost(n_items: int, n_correct: int, tokens_in: int, tokens_out: int,
               usd_per_mtok_in: float | None, usd_per_mtok_out: float | None) -> tuple[float | None, float | None]:  # fmt: skip
    """($ per 1,000 items, $ per correct answer) for items that used these tokens, at these rates.

    Output tokens count only when there are any (multiple-choice scoring generates none), so a
    missing generation speed does not void the cost of a choice suite.
    """
    if n_items <= 0 or usd_per_mtok_in is None or (tokens_out and usd_per_mtok_out is None):
        return None, None
    total = tokens_in / 1e6 * usd_per_mtok_in + (tokens_out / 1e6 * usd_per_mtok_out if tokens_out else 0.0)
    per_correct = total / n_correct if n_correct > 0 else None
    return total / n_items * 1000.0, per_correct


@dataclass(frozen=True)
class ApiPrice:
    """A published list price of an API model."""

    model: str
    provider: str
    usd_per_mtok_in: float
    usd_per_mtok_out: float
    as_of: str
    source: str
    source_url: str


@lru_cache(maxsize=1)
def api_prices() -> dict[str, ApiPrice]:
    """The bundled price table (evalkit/data/api_prices.toml), keyed by model name."""
    text = resources.files("evalkit").joinpath("data/api_prices.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    return {p["model"]: ApiPrice(**p) for p in data["price"]}


def api_prices_version() -> str:
    text = resources.files("evalkit").joinpath("data/api_prices.toml").read_text(encoding="utf-8")
    return str(tomllib.loads(text)["version"])


def api_price(model: str) -> ApiPrice | None:
    """The list price of an API model by name (case-insensitive), or None."""
    table = api_prices()
    return table.get(model) or next((p for k, p in table.items() if k.lower() == model.lower()), None)
