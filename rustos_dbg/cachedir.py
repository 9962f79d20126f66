"""Where rustos-dbg keeps what it can rebuild: ``$XDG_CACHE_HOME/rustos-dbg``.

Contract: :func:`cache_dir` names the directory (``~/.cache/rustos-dbg``
without ``XDG_CACHE_HOME``); it is not created here. Everything in it is
derived (a compiled helper, DWARF indexes keyed by the kernel's hash) and may
be deleted at any time.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """The rustos-dbg cache directory."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "rustos-dbg"
