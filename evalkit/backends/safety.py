"""Guard against llama.cpp's CPU weight-repacking crash.

llama-cpp-python 0.3.36 built natively on some AVX-512 CPUs segfaults when it
evaluates a batch of more than one token with the CPU weight-repacking buffers
(model parameter ``use_extra_bufts``) on. Where repacking works it can be much
faster (1.8x prompt processing for Q4_0 measured on this project's CI machine),
so evalkit does not simply turn it off: in ``auto`` mode it first loads the model
with repacking on in a throw-away child process and evaluates a multi-token batch
there. Only if the child survives is repacking used in-process. The verdict is
cached per (llama.cpp build, CPU, model file), so the probe runs once.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from evalkit.errors import ConfigError
from evalkit.paths import cache_dir

MODES = ("auto", "on", "off")
PROBE_TOKENS = 64


def _cpu_fingerprint() -> str:
    flags = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith(("flags", "model name", "Features")):
                    flags += line
    except OSError:
        pass
    return hashlib.sha256(flags.encode()).hexdigest()[:16]


def _probe_key(model_path: str) -> str:
    from importlib import metadata

    from evalkit.gguf_info import file_sha256

    try:
        version = metadata.version("llama_cpp_python")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return f"{version}:{_cpu_fingerprint()}:{file_sha256(model_path)}"


def probe(model_path: str, threads: int) -> tuple[bool, str]:
    """Run the repacking probe in a child process; return (safe, reason)."""
    cmd = [sys.executable, "-m", "evalkit.backends.safety", model_path, str(threads)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        return False, "probe timed out"
    if proc.returncode == 0:
        return True, "multi-token batch evaluated with repacking on"
    if proc.returncode < 0:
        return False, f"probe killed by signal {-proc.returncode} with repacking on"
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return False, f"probe exited {proc.returncode}: {tail}"


def repack_allowed(model_path: str, mode: str = "auto", threads: int = 1) -> bool:
    """Whether to load *model_path* with CPU weight repacking on. EVALKIT_REPACK overrides *mode*."""
    mode = os.environ.get("EVALKIT_REPACK", mode)
    if mode not in MODES:
        raise ConfigError(f"unknown repack mode '{mode}'. Use one of: {', '.join(MODES)}.")
    if mode != "auto":
        return mode == "on"
    cache_file = cache_dir() / "repack_probe.json"
    try:
        cache = json.loads(cache_file.read_text())
    except (OSError, ValueError):
        cache = {}
    key = _probe_key(model_path)
    if key not in cache:
        safe, reason = probe(model_path, threads)
        cache[key] = {"safe": safe, "reason": reason}
        tmp = cache_file.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(cache, indent=1))
        tmp.replace(cache_file)
    return bool(cache[key]["safe"])


def _probe_main(model_path: str, threads: int) -> None:
    """Child side: load with repacking on and evaluate a multi-token batch; crash here, not in the parent."""
    from evalkit.backends.llamacpp import load_llama

    llm = load_llama(model_path, n_ctx=256, n_batch=PROBE_TOKENS, threads=threads, use_extra_bufts=True)
    tokens = llm.tokenize(b"The quick brown fox jumps over the lazy dog. " * 8)[:PROBE_TOKENS]
    llm.eval(tokens)
    llm.eval(tokens[: PROBE_TOKENS // 2])
    llm.close()


if __name__ == "__main__":
    _probe_main(sys.argv[1], int(sys.argv[2]))
    print("ok")
