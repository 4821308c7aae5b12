"""Suites as files: parse and validate ``suites/*.toml`` into a :class:`Suite`.

The schema is strict: an unknown key fails at load time with the file, the key
and the allowed keys named.
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from evalkit.errors import ConfigError, SuiteNotFound, did_you_mean
from evalkit.paths import bundled_suites_dir


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


class SourceSpec(_Strict):
    type: Literal["mmlu", "jsonl", "csv", "conll", "hf", "generator"]
    hf: str | None = Field(None, description="Hugging Face dataset id, for users online.")
    hf_config: str | None = None
    local: str | None = Field(None, description="Path of the local copy, relative to the data dir or the suite file.")
    split: str = "test"
    fewshot_split: str | None = None
    options: dict[str, Any] = {}


class PromptSpec(_Strict):
    header: str = Field("", description="Jinja2 template rendered once per subset, before the few-shot examples.")
    template: str = Field(description="Jinja2 template for one item's question.")
    target: str = Field("", description="Jinja2 template appended to few-shot examples (their answer).")
    separator: str = "\n\n"
    fewshot: int = Field(0, ge=0, le=64)
    fewshot_seed: int = 1234


class ChoiceSpec(_Strict):
    labels: list[str] = Field(min_length=2)
    continuation: str = Field(" {{ label }}", description="Jinja2 template of the text scored for each label.")


class DefaultsSpec(_Strict):
    subsets: list[str] = []
    limit: int | None = None


class Suite(_Strict):
    """A validated suite file."""

    suite: SuiteMeta
    source: SourceSpec
    prompt: PromptSpec
    choices: ChoiceSpec | None = None
    params: dict[str, Any] = {}
    defaults: DefaultsSpec = DefaultsSpec()
    groups: dict[str, list[str]] = {}
    path: str | None = Field(None, exclude=True)
    content_hash: str = Field("", exclude=True)

    @model_validator(mode="after")
    def _kind_needs_choices(self) -> Suite:
        if self.suite.kind == "choice" and self.choices is None:
            raise ValueError("a suite of kind 'choice' needs a [choices] table with labels")
        return self

    @property
    def name(self) -> str:
        return self.suite.name

    @property
    def version(self) -> str:
        return self.suite.version


def _format_validation_error(path: Path, exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        model = Suite
        for part in err["loc"][:-1]:
            field = model.model_fields.get(str(part))
            ann = getattr(field, "annotation", None) if field else None
            model = next((a for a in getattr(ann, "__args__", (ann,)) if isinstance(a, type) and issubclass(a, BaseModel)), None)
            if model is None:
                break
        allowed = ", ".join(k for k in (model.model_fields if model else {}) if k not in ("path", "content_hash"))
        return f"{path}: unknown key '{loc}'. Allowed keys there: {allowed}."
    return f"{path}: {loc or 'suite'}: {err['msg']}. Fix the suite file."


def load_suite_file(path: str | Path) -> Suite:
    """Load and validate one suite file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SuiteNotFound(f"cannot read suite file {path}: {exc.strerror}.") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}). Fix the syntax.") from None
    try:
        suite = Suite.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(path, exc)) from None
    digest = hashlib.sha256(raw).hexdigest()[:16]
    return suite.model_copy(update={"path": str(path.resolve()), "content_hash": digest})


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
        for f in sorted(d.glob("*.toml")):
            found.setdefault(f.stem, f)
    return found


def load_suite(name_or_path: str) -> Suite:
    """Load a suite by name (from suites/) or by path to a suite file."""
    p = Path(name_or_path)
    if p.suffix in (".toml",) or p.exists():
        if not p.exists():
            raise SuiteNotFound(f"suite file not found: {p}. Check the path, or use a name from 'evalkit suites'.")
        return load_suite_file(p)
    known = available_suites()
    if name_or_path not in known:
        raise SuiteNotFound(did_you_mean(name_or_path, known, "suite") + ". Or pass a path to a suite file.")
    return load_suite_file(known[name_or_path])
