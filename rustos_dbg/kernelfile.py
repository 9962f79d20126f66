"""Where the project's kernel is, and building it when it is missing.

Contract: :func:`default_elf` is ``$RUSTOS_ELF`` or ``build/rustos.elf`` of
this checkout; :func:`ensure_kernel` returns it, running
``scripts/build-kernel`` first when the file is missing, and raises
``RustosDbgError`` with one line when that cannot be done.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Callable, Optional

from .machine.errors import RustosDbgError

ROOT = Path(__file__).resolve().parents[1]
BUILD_SCRIPT = ROOT / "scripts" / "build-kernel"


def default_elf() -> Path:
    """``$RUSTOS_ELF``, else ``build/rustos.elf`` of this checkout."""
    env = os.environ.get("RUSTOS_ELF")
    return Path(env) if env else ROOT / "build" / "rustos.elf"


def ensure_kernel(announce: Optional[Callable[[], None]] = None) -> Path:
    """The default kernel, built with scripts/build-kernel when missing
    (``announce()`` is called before a build)."""
    elf = default_elf()
    if elf.exists():
        return elf
    if not BUILD_SCRIPT.exists():
        raise RustosDbgError(f"no kernel at {elf} and no scripts/build-kernel to build one; give the ELF path")
    if announce is not None:
        announce()
    done = subprocess.run([str(BUILD_SCRIPT)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RustosDbgError(f"scripts/build-kernel failed (status {done.returncode}): {last}")
    if not elf.exists():
        raise RustosDbgError(f"scripts/build-kernel ran but {elf} still does not exist")
    return elf
