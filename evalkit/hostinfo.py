"""The machine a run happened on: CPU, cores, RAM, OS and library versions."""

from __future__ import annotations

import os
import platform
from functools import lru_cache
from importlib import metadata


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


@lru_cache(maxsize=1)
def host_info() -> dict:
    """A JSON-able description of this machine, stored with every run."""
    try:
        import psutil

        ram = psutil.virtual_memory().total
    except ImportError:  # pragma: no cover - psutil is a dependency
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_bytes": int(ram),
        "os": f"{platform.system()} {platform.release()}",
        "machine": platform.machine(),
        "python": platform.python_version(),
        "llama_cpp_python": _version("llama_cpp_python"),
        "evalkit": _version("evalkit"),
        "duckdb": _version("duckdb"),
    }
