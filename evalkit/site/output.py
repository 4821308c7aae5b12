"""Where the site is written: a staging folder beside the target, swapped in only when complete.

The target is replaced only if it is missing, empty (a README.md alone counts as empty: the repository keeps
one in site/), or a site this command built before (it holds the marker file). Any other folder is refused,
so a wrong --out never deletes someone's files. A README.md at the top of the target is carried over.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from evalkit.errors import ConfigError

MARKER = ".evalkit-site"
KEPT = ("README.md",)  # carried over from the old folder into the new site


def check_target(out: Path) -> None:
    """Raise ConfigError unless ``out`` may be (re)placed by a freshly built site."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise ConfigError(f"--out {out} exists and is not a folder. Pass a new or empty folder, or a site built before.")
    if out.is_dir() and not (out / MARKER).is_file():
        try:
            others = [e.name for e in os.scandir(out) if e.name not in KEPT]
        except OSError as exc:
            raise ConfigError(f"cannot read --out {out}: {exc.strerror}. Pass another folder.") from None
        if others:
            raise ConfigError(
                f"refusing to overwrite {out}: it is not empty and not an evalkit site (no {MARKER} file). "
                "Pass --out with a new or empty folder."
            )


def _umask_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o777 & ~mask


@contextmanager
def staging(out: Path) -> Iterator[Path]:
    """Yield a fresh folder beside ``out``; on success swap it in place of ``out``, on failure remove it."""
    out = out.absolute()
    check_target(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    except OSError as exc:
        raise ConfigError(f"cannot write the site next to {out}: {exc.strerror}. Pass --out with a writable folder.") from None
    try:
        os.chmod(tmp, _umask_mode())  # mkdtemp makes it private; a published site must be readable
        (tmp / MARKER).write_text("built by 'evalkit site build'; this folder is replaced on every build.\n", encoding="utf-8")
        yield tmp
        _swap(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap(tmp: Path, out: Path) -> None:
    """Put ``tmp`` at ``out``; the old site (if any) is moved aside first and restored if the move fails."""
    check_target(out)  # again: something may have appeared there while we were building
    for name in KEPT:
        if (out / name).is_file() and not (tmp / name).exists():
            shutil.copy2(out / name, tmp / name)
    if not out.exists():
        os.rename(tmp, out)
        return
    old = out.parent / f".{out.name}.old-{secrets.token_hex(4)}"
    os.rename(out, old)
    try:
        os.rename(tmp, out)
    except OSError:
        os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)
