"""Peak resident memory of a process: the figure `/usr/bin/time -v` prints as "Maximum resident set size".

On Linux this is read from ``VmHWM`` in ``/proc/self/status``: the high-water mark
of this process's own address space (anonymous memory plus the pages of the
memory-mapped model file it touched). ``getrusage().ru_maxrss`` is NOT used there:
the kernel carries the parent's high-water mark into a child across fork/vfork and
exec, so a worker started by a large parent (the runner peaks at ~800 MB while it
reads Gemma's GGUF header) would report the parent's figure. `/usr/bin/time`
avoids this because it is itself a small process that forks the command; the two
agree on the same worker (tests/test_matrix_worker.py, benchmarks/matrix_rss.py).
Elsewhere (macOS) ``ru_maxrss`` is the best available.
"""

from __future__ import annotations

import re
import sys

_TIME_V_RSS = re.compile(r"Maximum resident set size \(kbytes\):\s*(\d+)")


def _proc_status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def peak_rss_bytes() -> int:
    """Peak resident set size of this process's own address space so far, in bytes."""
    hwm = _proc_status_kib("VmHWM")
    if hwm is not None:
        return hwm * 1024
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024  # Linux reports KiB, macOS bytes


def current_rss_bytes() -> int:
    """Resident set size right now, in bytes."""
    rss = _proc_status_kib("VmRSS")
    if rss is not None:
        return rss * 1024
    import psutil

    return int(psutil.Process().memory_info().rss)


def parse_time_v(stderr: str) -> int | None:
    """Peak RSS in bytes from GNU time's ``-v`` report, or None if the report is not there."""
    found = _TIME_V_RSS.findall(stderr)
    return int(found[-1]) * 1024 if found else None
