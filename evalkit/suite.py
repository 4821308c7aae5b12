"""Suites as files: parse and validate ``suites/*.toml`` (or ``.yaml``) into a :class:`Suite`.

The schema is strict: an unknown key fails at load time with the file, the key
and the allowed keys named. Every table is documented field by field here;
``docs/suites.md`` is the user guide.
"""

from __future__ import annotations

import copy
import hashlib
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from evalkit.errors import ConfigError, SuiteNotFound, did_you_mean
from evalkit.paths import bundled_suites_dir

SUITE_SUFFIXES = (".toml", ".yaml", ".yml")
VARIANT_SEP = "+"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SuiteMeta(_Strict):
    name: str = Field(description="Short name used with --suite.")
    version: str = Field(description="Bump on any change to prompt, scorers or data.")
    description: str = ""
    kind: Literal["choice", "generate", "json"] = Field(
        description="choice: scored by log-probability of each choice; generate: free text; json: a JSON object."
    )
    tags: list[str] = []
    metrics: list[str] = Field([], description="Metrics to report, headline first. Default: those of the first scorer.")


class SourceSpec(_Strict):
    type: Literal["mmlu", "jsonl", "csv", "conll", "hf", "generator"] = Field(
        description="Local file format (jsonl, csv, conll), hf (Hub only), generator (built-in), mmlu (MMLU's layout)."
    )
    hf: str | None = Field(None, description="Hugging Face dataset id, for users online.")
    hf_config: str | None = None
    hf_revision: str | None = None
    hf_split: str | None = Field(None, description="Split name on the Hub, if it differs from `split`.")
    hf_fewshot_split: str | None = None
    hf_fields: dict[str, str] = Field({}, description="Field mapping for Hub rows, merged over [fields].")
    local: str | None = Field(None, description="File or folder of the local copy, relative to the data dir or the suite file.")
    files: dict[str, str] = Field({}, description="Split name → file name inside the `local` folder.")
    split: str = "test"
    fewshot_split: str | None = None
    split_field: str | None = Field(None, description="Record key holding the split name, when one file holds several.")
    shuffle: bool = Field(
        False, description="Fixed pseudo-random item order (by item id), so --limit samples the whole file, not its first rows."
    )
    header: bool = Field(True, description="CSV: the first row names the columns.")
    columns: list[str] = Field([], description="CSV: column names (for files without a header).")
    delimiter: str = ","
    generator: str | None = Field(None, description="Built-in generator name (type generator).")
    seed: int = Field(0, ge=0, description="Generator seed; `evalkit run --seed` overrides it.")
    n: int = Field(100, ge=1, description="Generator: items per subset.")
    options: dict[str, Any] = Field({}, description="Generator options.")

    @model_validator(mode="after")
    def _consistent(self) -> SourceSpec:
        if self.type == "generator" and not self.generator:
            raise ValueError("a source of type 'generator' needs `generator = NAME`")
        if self.type == "hf" and not self.hf:
            raise ValueError("a source of type 'hf' needs `hf = OWNER/DATASET`")
        if self.type in ("jsonl", "csv", "conll") and not (self.local or self.hf):
            raise ValueError(f"a source of type '{self.type}' needs `local = PATH` (and/or `hf = ID`)")
        return self


class PromptSpec(_Strict):
    header: str = Field("", description="Jinja2 template rendered once per subset, before the few-shot examples.")
    template: str = Field(description="Jinja2 template for one item's question.")
    target: str = Field("", description="Jinja2 template appended to few-shot examples (their answer).")
    separator: str = "\n\n"
    fewshot: int = Field(0, ge=0, le=64, description="Number of few-shot examples.")
    fewshot_seed: int = 1234
    fewshot_sample: Literal["first", "random"] = Field("first", description="first k of the pool, or a seeded sample.")


class ChoiceSpec(_Strict):
    labels: list[str] = Field(min_length=2)
    continuation: str = Field(" {{ label }}", description="Jinja2 template of the text scored for each label.")
    normalize: Literal["none", "chars"] = Field(
        "none", description="none: sum of token log-probs; chars: divided by the continuation's length in bytes."
    )


class ParamsSpec(_Strict):
    max_tokens: int = Field(256, ge=1, le=8192, description="Token limit of every generation (always set).")
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    stop: list[str] = []
    seed: int = 0
    grammar: Literal["none", "json", "schema", "labels"] = Field(
        "none", description="Constrained decoding: any JSON, the item's JSON schema, or one of the labels."
    )
    json_schema: str | None = Field(None, description="JSON schema (as a string) when items carry none.")


class ScorerSpec(_Strict):
    name: str
    args: dict[str, Any] = {}


class DefaultsSpec(_Strict):
    subsets: list[str] = []
    limit: int | None = None


class Suite(_Strict):
    """A validated suite file."""

    suite: SuiteMeta
    source: SourceSpec
    fields: dict[str, str] = Field({}, description="Item field → record key or Jinja2 template over the record.")
    prompt: PromptSpec
    choices: ChoiceSpec | None = None
    params: ParamsSpec = ParamsSpec()
    scorers: list[ScorerSpec] = []
    defaults: DefaultsSpec = DefaultsSpec()
    groups: dict[str, list[str]] = {}
    variants: dict[str, dict[str, Any]] = Field({}, description="Named overrides, run as NAME+VARIANT.")
    path: str | None = Field(None, exclude=True)
    content_hash: str = Field("", exclude=True)
    variant: str | None = Field(None, exclude=True)

    @model_validator(mode="after")
    def _kind_rules(self) -> Suite:
        kind = self.suite.kind
        if kind == "choice" and self.choices is None:
            raise ValueError("a suite of kind 'choice' needs a [choices] table with labels")
        if kind != "choice" and not self.scorers:
            raise ValueError(f"a suite of kind '{kind}' needs at least one [[scorers]] entry")
        if self.params.grammar == "labels" and (self.choices is None or kind != "generate"):
            raise ValueError("params.grammar = 'labels' needs kind 'generate' and a [choices] table with labels")
        if self.params.grammar in ("json", "schema") and kind != "json":
            raise ValueError(f"params.grammar = '{self.params.grammar}' needs kind 'json'")
        return self

    @property
    def name(self) -> str:
        return self.suite.name

    @property
    def version(self) -> str:
        return self.suite.version

    @property
    def labels(self) -> list[str]:
        return list(self.choices.labels) if self.choices else []

    @property
    def folder(self) -> Path | None:
        return Path(self.path).parent if self.path else None


def _unwrap(ann: Any) -> Any:
    """Optional[X] → X (the first non-None member of a union)."""
    if getattr(ann, "__origin__", None) in (list, dict) or isinstance(ann, type):
        return ann
    members = [a for a in getattr(ann, "__args__", ()) if a is not type(None)]
    return members[0] if members else ann


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The pydantic model that owns the last key of *loc* (list indexes and dict keys are stepped over)."""
    ann: Any = Suite
    for part in loc[:-1]:
        ann = _unwrap(ann)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            field = ann.model_fields.get(str(part))
            if field is None:
                return None
            ann = field.annotation
        elif getattr(ann, "__origin__", None) in (list, dict):
            ann = ann.__args__[-1]
        else:
            return None
    ann = _unwrap(ann)
    if getattr(ann, "__origin__", None) in (list, dict):
        ann = _unwrap(ann.__args__[-1])
    return ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None


def _format_validation_error(path: Path, exc: ValidationError, where: str = "") -> str:
    err = exc.errors()[0]
    loc = where + ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        model = _model_at(tuple(err["loc"]))
        hidden = ("path", "content_hash", "variant")
        allowed = ", ".join(k for k in (model.model_fields if model else {}) if k not in hidden)
        return f"{path}: unknown key '{loc}'. Allowed keys there: {allowed}."
    msg = err["msg"].removeprefix("Value error, ")
    return f"{path}: {loc or 'suite'}: {msg}. Fix the suite file."


def _parse(path: Path, raw: bytes) -> dict:
    try:
        if path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(raw.decode("utf-8"))
        else:
            data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}). Fix the syntax.") from None
    except Exception as exc:  # yaml.YAMLError
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]}). Fix the syntax.") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a suite file must hold tables ([suite], [source], [prompt], ...).")
    return data


def _deep_merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _validate(path: Path, data: dict, where: str = "") -> Suite:
    try:
        return Suite.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(path, exc, where)) from None


def _apply_variant(path: Path, data: dict, name: str) -> dict:
    variants = data.get("variants") or {}
    if name not in variants:
        raise SuiteNotFound(did_you_mean(name, variants, f"variant of {path.name}") + ". Variants are declared in [variants].")
    merged = _deep_merge({k: v for k, v in data.items() if k != "variants"}, variants[name])
    meta = merged.setdefault("suite", {})
    meta["name"] = f"{meta.get('name', path.stem)}{VARIANT_SEP}{name}"
    return merged


def _check_references(path: Path, suite: Suite) -> None:
    from evalkit.scorers import check_scorers
    from evalkit.tasks.summary import check_metrics

    try:
        check_scorers(suite)
        check_metrics(suite)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def load_suite_file(path: str | Path, variant: str | None = None) -> Suite:
    """Load and validate one suite file (optionally one of its variants)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SuiteNotFound(f"cannot read suite file {path}: {exc.strerror}.") from None
    data = _parse(path, raw)
    suite = _validate(path, data)
    for name, over in suite.variants.items():  # every variant must be valid too, not only the one asked for
        if not isinstance(over, dict) or "variants" in over:
            raise ConfigError(f"{path}: variants.{name} must be a table of overrides (without [variants]).")
        _validate(path, _apply_variant(path, data, name), where=f"variants.{name}: ")
    h = hashlib.sha256(raw)
    if variant:
        suite = _validate(path, _apply_variant(path, data, variant), where=f"variants.{variant}: ")
        h.update(b"\x00variant:" + variant.encode())
    _check_references(path, suite)
    return suite.model_copy(update={"path": str(path.resolve()), "content_hash": h.hexdigest()[:16], "variant": variant})


def suite_dirs() -> list[Path]:
    """Folders searched for suites by name: ./suites (if present) then the bundled suites."""
    dirs = []
    local = Path.cwd() / "suites"
    if local.is_dir():
        dirs.append(local)
    bundled = bundled_suites_dir()
    if bundled.is_dir() and bundled.resolve() not in [d.resolve() for d in dirs]:
        dirs.append(bundled)
    return dirs


def available_suites() -> dict[str, Path]:
    """Suite name → file, first folder wins."""
    found: dict[str, Path] = {}
    for d in suite_dirs():
        for f in sorted(p for p in d.iterdir() if p.suffix in SUITE_SUFFIXES):
            found.setdefault(f.stem, f)
    return found


def _split_variant(spec: str) -> tuple[str, str | None]:
    base, sep, var = spec.rpartition(VARIANT_SEP)
    if sep and base and re.fullmatch(r"[A-Za-z0-9_\-]+", var):
        return base, var
    return spec, None


def load_suite(name_or_path: str) -> Suite:
    """Load a suite by name (from suites/) or by path to a suite file; NAME+VARIANT picks a variant."""
    spec, variant = _split_variant(name_or_path)
    if Path(name_or_path).exists():
        spec, variant = name_or_path, None
    p = Path(spec)
    if p.suffix in SUITE_SUFFIXES or p.exists():
        if not p.exists():
            raise SuiteNotFound(f"suite file not found: {p}. Check the path, or use a name from 'evalkit suites'.")
        return load_suite_file(p, variant)
    known = available_suites()
    if spec not in known:
        raise SuiteNotFound(did_you_mean(spec, known, "suite") + ". Or pass a path to a suite file.")
    return load_suite_file(known[spec], variant)
