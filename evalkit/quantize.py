"""Derive quantization levels of a GGUF model with llama.cpp's own quantizer, cached by content.

``derive(source, "Q8_0")`` returns ``cache_dir()/models/<source sha256[:16]>.Q8_0.gguf``,
creating it with ``llama_model_quantize`` (``allow_requantize=True``) in a child
process, so a crash inside llama.cpp fails that level only. The file name is the
address: same source content + same type = same file, whatever the source is called.
An index (``derived.json`` beside the files) records each file's source and type.

Requantizing an already quantized file (the shipped models are Q4_1 and Q4_K_M)
cannot add precision back: Q8_0 made from Q4_1 holds Q4_1's information. Quality
loss is therefore measured against the source file (see evalkit.ladder).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from evalkit.errors import ConfigError, ModelError
from evalkit.paths import cache_dir
from evalkit.procs import child_env, describe_exit

# Types llama.cpp can produce without an importance matrix (IQ* types need one), highest precision first.
QTYPES = ("F16", "BF16", "Q8_0", "Q6_K", "Q5_K_M", "Q5_K_S", "Q5_1", "Q5_0", "Q4_K_M", "Q4_K_S", "Q4_1", "Q4_0",
          "IQ4_NL", "IQ4_XS", "Q3_K_L", "Q3_K_M", "Q3_K_S", "Q2_K")  # fmt: skip
DEFAULT_LADDER = ("Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q4_0", "Q3_K_M", "Q2_K")


@dataclass(frozen=True)
class Derived:
    path: Path
    source_path: Path
    source_sha256: str
    quant_type: str
    created: bool  # False when it came from the cache


def normalize_qtype(name: str) -> str:
    """'q8_0' → 'Q8_0'; unknown names raise ConfigError listing the allowed ones."""
    up = name.strip().upper()
    if up not in QTYPES:
        from evalkit.errors import did_you_mean

        raise ConfigError(did_you_mean(name, QTYPES, "quantization type").replace("Available", "Allowed"))
    return up


def _ftype(qtype: str) -> int:
    from llama_cpp import llama_cpp as C

    attr = "LLAMA_FTYPE_MOSTLY_" + qtype
    if not hasattr(C, attr):
        raise ConfigError(f"this llama.cpp build cannot produce {qtype}. Use one of: {', '.join(QTYPES)}.")
    return int(getattr(C, attr))


def models_dir() -> Path:
    path = cache_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def derived_path(source_sha256: str, qtype: str) -> Path:
    return models_dir() / f"{source_sha256[:16]}.{qtype}.gguf"


def derive(source: str | Path, qtype: str, threads: int | None = None) -> Derived:
    """The *qtype* level of *source*: from the cache, or quantized now (in a child process)."""
    from evalkit.gguf_info import check_gguf, file_sha256

    source = Path(source).resolve()
    check_gguf(source)
    qtype = normalize_qtype(qtype)
    sha = file_sha256(source)
    out = derived_path(sha, qtype)
    if out.exists():
        return Derived(out, source, sha, qtype, created=False)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    cmd = [sys.executable, "-m", "evalkit.quantize", str(source), str(tmp), qtype, str(threads or 0)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=child_env())
    if proc.returncode != 0 or not tmp.exists():
        tmp.unlink(missing_ok=True)
        raise ModelError(f"llama.cpp could not quantize {source.name} to {qtype}: {_why(proc)}.")
    tmp.replace(out)  # atomic: a crash never leaves a half-written level under the final name
    _record(out, source, sha, qtype)
    return Derived(out, source, sha, qtype, created=True)


def _why(proc: subprocess.CompletedProcess) -> str:
    if proc.returncode < 0:
        return "quantizer " + describe_exit(proc.returncode)
    lines = [ln for ln in (proc.stderr or "").splitlines() if ln.strip()]
    return lines[-1].strip() if lines else f"exit code {proc.returncode}"


def _record(out: Path, source: Path, sha: str, qtype: str) -> None:
    index_file = models_dir() / "derived.json"
    try:
        index = json.loads(index_file.read_text())
    except (OSError, ValueError):
        index = {}
    index[out.name] = {"source_path": str(source), "source_sha256": sha, "quant_type": qtype, "llama_cpp": llama_cpp_version()}
    tmp = index_file.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(index, indent=1))
    tmp.replace(index_file)


def derived_index() -> dict:
    try:
        return json.loads((models_dir() / "derived.json").read_text())
    except (OSError, ValueError):
        return {}


def llama_cpp_version() -> str | None:
    from importlib import metadata

    try:
        return metadata.version("llama_cpp_python")
    except metadata.PackageNotFoundError:
        return None


@contextmanager
def silenced_stderr(target: str = os.devnull):
    """Point file descriptors 1 and 2 at *target* (llama.cpp's quantizer prints from C, past sys.stderr)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for f in (*saved, fd):
            os.close(f)


def quantize_file(source: str, out: str, qtype: str, threads: int = 0, log: str = os.devnull) -> int:
    """Run llama.cpp's quantizer in this process (output silenced at the fd level); return its status."""
    from llama_cpp import llama_cpp as C

    params = C.llama_model_quantize_default_params()
    params.ftype = _ftype(qtype)
    params.allow_requantize = True
    params.nthread = threads
    with silenced_stderr(log):
        return int(C.llama_model_quantize(source.encode(), out.encode(), params))


def _main(argv: list[str]) -> None:
    """Child side: quantize, keep llama.cpp's log in a temp file, print its tail to stderr on failure."""
    import tempfile

    source, out, qtype, threads = argv
    with tempfile.NamedTemporaryFile("r", suffix=".log") as log:
        rc = quantize_file(source, out, qtype, int(threads), log.name)
        if rc != 0:
            tail = [ln for ln in log.read().splitlines() if ln.strip()][-3:]
            print(" ".join(tail) or f"llama_model_quantize returned {rc}", file=sys.stderr)
            sys.exit(1)


if __name__ == "__main__":
    _main(sys.argv[1:])
