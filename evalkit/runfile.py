"""Run files (`evalkit run -c evalkit.toml`): the models × quantization levels × suites matrix, backend
options, micro-benchmark, quality ladder and cost profile, in one strict TOML file.

An unknown key fails at load time naming the file, the key and the keys allowed
there. Relative paths (db, data_dir, quality.text) are relative to the run file.
See docs/matrix.md for a complete example.
"""

from __future__ import annotations

import tomllib
import typing
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evalkit.errors import ConfigError, did_you_mean
from evalkit.perf import TTFT_PROMPT


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RunSection(_Strict):
    db: str | None = Field(None, description="DuckDB results file (default results/evalkit.duckdb).")
    data_dir: str | None = Field(None, description="Offline data folder; default: the Hugging Face Hub.")
    threads: int | None = Field(None, ge=1, description="CPU threads; default: all cores.")
    n_ctx: int = Field(4096, ge=256)
    repack: Literal["auto", "on", "off"] = "auto"
    force: bool = False
    seed: int | None = Field(None, ge=0, description="Seed of generated suites; default: each suite's own.")


class ModelEntry(_Strict):
    model: str = Field(description="A short name, a .gguf path, or hf:owner/repo/file.gguf.")
    quants: list[str] = Field([], description="Levels: 'source' (the file as given) and/or types such as Q8_0.")
    ladder: str | None = Field(None, description="A ladder from [ladders], or 'default'; the source file is included.")


class SuiteEntry(_Strict):
    suite: str
    subsets: list[str] = []
    limit: int | None = Field(None, ge=1)
    shots: int | None = Field(None, ge=0)


class BenchSection(_Strict):
    enabled: bool = True
    pp_tokens: int = Field(512, ge=1)
    tg_tokens: int = Field(128, ge=1)
    repetitions: int = Field(3, ge=1)
    ttft_runs: int = Field(10, ge=1)
    ttft_prompt: str = TTFT_PROMPT


class QualitySection(_Strict):
    enabled: bool = True
    n_ctx: int = Field(512, ge=16, description="Tokens per chunk; the second half of each chunk is scored.")
    max_chunks: int = Field(3, ge=1)
    text: str | None = Field(None, description="A UTF-8 text file; default: the bundled sample.")


class CostSection(_Strict):
    name: str | None = None
    purchase_usd: float | None = Field(None, ge=0)
    amortization_years: float | None = Field(None, gt=0)
    power_watts: float | None = Field(None, ge=0)
    electricity_usd_per_kwh: float | None = Field(None, ge=0)
    utilization: float | None = Field(None, gt=0, le=1)


class RunFile(_Strict):
    run: RunSection = RunSection()
    models: list[ModelEntry] = Field(min_length=1)
    suites: list[SuiteEntry] = Field(min_length=1)
    ladders: dict[str, list[str]] = {}
    bench: BenchSection = BenchSection()
    quality: QualitySection = QualitySection()
    cost: CostSection = CostSection()


def _submodel(ann) -> type[BaseModel] | None:
    """The pydantic model inside an annotation such as list[ModelEntry] or X | None."""
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in typing.get_args(ann):
        found = _submodel(arg)
        if found is not None:
            return found
    return None


def _format_error(path: Path, exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        model: type[BaseModel] | None = RunFile
        for part in err["loc"][:-1]:
            if isinstance(part, int) or model is None:
                continue
            field = model.model_fields.get(str(part))
            model = _submodel(field.annotation) if field else None
        allowed = ", ".join(model.model_fields) if model else "none"
        return f"{path}: unknown key '{loc}'. Allowed keys there: {allowed}."
    if err["type"] == "missing":
        return f"{path}: missing key '{loc}'. Add it to the run file."
    return f"{path}: {loc}: {err['msg']}. Fix the run file."


def load_run_file(path: str | Path) -> RunFile:
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read run file {path}: {exc.strerror}. Check the path given to -c.") from None
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}). Fix the syntax.") from None
    try:
        return RunFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_error(path, exc)) from None


def model_specs(rf: RunFile, path: Path) -> list[str]:
    """Flat model specs ('name', 'name@Q8_0', ...) for every model × level of the run file."""
    from evalkit.quantize import DEFAULT_LADDER, normalize_qtype

    ladders = {"default": list(DEFAULT_LADDER), **rf.ladders}
    specs = []
    for i, entry in enumerate(rf.models):
        levels = list(entry.quants)
        if entry.ladder is not None:
            if entry.ladder not in ladders:
                raise ConfigError(f"{path}: models.{i}.ladder: " + did_you_mean(entry.ladder, ladders, "ladder") + ". Define it under [ladders].")
            levels = ["source"] + levels + list(ladders[entry.ladder])
        for level in levels or ["source"]:
            try:
                specs.append(entry.model if level.lower() == "source" else f"{entry.model}@{normalize_qtype(level)}")
            except ConfigError as exc:
                raise ConfigError(f"{path}: models.{i}: {exc}") from None
    return list(dict.fromkeys(specs))


def to_config(path: str | Path, command: str = ""):
    """Load a run file into a runner.RunConfig (import here: the runner imports a lot)."""
    from evalkit.cost import HardwareProfile
    from evalkit.ladder import LadderSpec
    from evalkit.perf import BenchSpec
    from evalkit.runner import RunConfig, SuiteSelection
    from evalkit.store import DEFAULT_DB

    path = Path(path)
    rf = load_run_file(path)
    here = path.resolve().parent

    def rel(p: str | None) -> str | None:
        return None if p is None else str((here / Path(p).expanduser()) if not Path(p).expanduser().is_absolute() else Path(p).expanduser())

    b, q, r = rf.bench, rf.quality, rf.run
    if q.enabled and q.text and not Path(rel(q.text)).is_file():
        raise ConfigError(f"{path}: quality.text: file not found: {rel(q.text)}. Give an existing UTF-8 text file or remove the key.")
    return RunConfig(
        models=model_specs(rf, path),
        suites=[SuiteSelection(s.suite, list(s.subsets), s.limit, s.shots) for s in rf.suites],
        db=Path(rel(r.db) or DEFAULT_DB), data_dir=rel(r.data_dir), threads=r.threads, n_ctx=r.n_ctx, repack=r.repack,
        force=r.force, seed=r.seed, command=command,
        bench=BenchSpec(b.pp_tokens, b.tg_tokens, b.repetitions, b.ttft_runs, b.ttft_prompt) if b.enabled else None,
        cost=HardwareProfile().with_overrides(**rf.cost.model_dump()),
        ladder=LadderSpec(q.n_ctx, q.max_chunks, rel(q.text)) if q.enabled else None,
    )  # fmt: skip
