"""Static facts read from a GGUF file's header: quantization, parameters, context length."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from evalkit.errors import ModelError
from evalkit.paths import cache_dir

GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class GGUFInfo:
    path: str
    file_size: int
    architecture: str
    name: str
    quant_type: str
    n_params: int
    bits_per_weight: float
    context_length: int | None
    add_bos_token: bool | None

    def as_dict(self) -> dict:
        return asdict(self)


def check_gguf(path: Path) -> None:
    """Raise ModelError unless *path* is a readable GGUF file."""
    if not path.exists():
        raise ModelError(f"model file not found: {path}. Pass an existing .gguf path or a name from 'evalkit models'.")
    if not path.is_file():
        raise ModelError(f"model path is not a file: {path}. Pass the .gguf file itself, not its folder.")
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise ModelError(f"cannot read model file {path}: {exc.strerror}. Check its permissions.") from None
    if magic != GGUF_MAGIC:
        raise ModelError(
            f"{path} is not a GGUF file (it does not start with 'GGUF'). "
            "Convert it with llama.cpp's convert_hf_to_gguf.py or download a .gguf build."
        )


def _field(reader, key: str):
    field = reader.fields.get(key)
    if field is None:
        return None
    if hasattr(field, "contents"):
        return field.contents()
    value = field.parts[field.data[0]]
    if field.types and field.types[0].name == "STRING":
        return bytes(value).decode("utf-8", errors="replace")
    return value.tolist()[0] if hasattr(value, "tolist") else value


def _quant_name(file_type) -> str:
    if file_type is None:
        return "unknown"
    try:
        from gguf import LlamaFileType

        name = LlamaFileType(int(file_type)).name
    except (ImportError, ValueError):
        return f"type{file_type}"
    return name.removeprefix("MOSTLY_").removeprefix("ALL_")


def read_gguf_info(path: str | Path) -> GGUFInfo:
    """Read the header of a GGUF file (memory-mapped; no weights are loaded)."""
    path = Path(path)
    check_gguf(path)
    from evalkit.gguf_header import read_header

    try:
        header = read_header(path)
    except (OSError, ValueError) as exc:  # a truncated or corrupt file
        raise ModelError(f"{path} is not a readable GGUF file ({exc}). Re-download or re-convert it.") from None
    meta = header.metadata
    arch = meta.get("general.architecture") or "unknown"
    n_params = header.n_params
    size = path.stat().st_size
    ctx = meta.get(f"{arch}.context_length")
    add_bos = meta.get("tokenizer.ggml.add_bos_token")
    return GGUFInfo(
        path=str(path),
        file_size=size,
        architecture=str(arch),
        name=str(meta.get("general.name") or path.stem),
        quant_type=_quant_name(meta.get("general.file_type")),
        n_params=n_params,
        bits_per_weight=round(size * 8 / n_params, 3) if n_params else 0.0,
        context_length=int(ctx) if ctx is not None else None,
        add_bos_token=bool(add_bos) if add_bos is not None else None,
    )


def file_sha256(path: str | Path) -> str:
    """sha256 of a model file, cached by (path, size, mtime) so large files are hashed once."""
    path = Path(path).resolve()
    st = path.stat()
    key = f"{path}:{st.st_size}:{st.st_mtime_ns}"
    cache_file = cache_dir() / "sha256.json"
    try:
        cache = json.loads(cache_file.read_text())
    except (OSError, ValueError):
        cache = {}
    if key in cache:
        return cache[key]
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    cache[key] = digest.hexdigest()
    tmp = cache_file.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(cache))
    tmp.replace(cache_file)
    return cache[key]
