"""On-disk cache of what the DWARF layer builds from a kernel ELF.

Contract: :func:`cached` (``image``, ``kind``, ``build``) returns
``build(image)``, keeping the result in
``$XDG_CACHE_HOME/rustos-dbg/dwarf-<kind>-<key>.pickle``, where the key is
the SHA-256 of the ELF's bytes, of this package's format version
(:data:`FORMAT`) and of the sources of the cached classes: the same kernel
file is indexed once per host, a rebuilt kernel (other bytes) or a changed
reader gets its own entry. Only plain data built by this
package is stored (the :mod:`.index` records, the line table); a missing,
unreadable or stale entry is rebuilt and rewritten atomically, and a cache
that cannot be written (read-only home, full disk) only costs the rebuild.
``RUSTOS_DBG_NO_CACHE=1`` turns the cache off.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any, Callable

from ..cachedir import cache_dir

#: Bump when the pickled records change shape (the sources below are hashed too).
FORMAT = "2"
#: The modules whose classes are pickled: a change to any of them makes a new key.
_SOURCES = ("index.py", "debuginfo.py", "types.py", "lines.py", "functions.py", "cache.py")


def elf_key(image) -> str:
    """The cache key of a kernel image: a hash of its ELF bytes, :data:`FORMAT` and the
    sources of the pickled classes."""
    stream = getattr(image.elf, "stream", None)
    raw = stream.getvalue() if hasattr(stream, "getvalue") else Path(image.path).read_bytes()
    h = hashlib.sha256(FORMAT.encode())
    here = Path(__file__).parent
    for name in _SOURCES:
        h.update((here / name).read_bytes())
    h.update(raw)
    return h.hexdigest()[:32]


def cache_path(image, kind: str) -> Path:
    """Where the ``kind`` entry of ``image`` lives."""
    return cache_dir() / f"dwarf-{kind}-{elf_key(image)}.pickle"


def cached(image, kind: str, build: Callable[[Any], Any]) -> Any:
    """``build(image)``, read from the cache when it holds this ELF's entry."""
    if os.environ.get("RUSTOS_DBG_NO_CACHE"):
        return build(image)
    path = cache_path(image, kind)
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError, TypeError):
        pass
    value = build(image)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)  # atomic: concurrent processes agree on one file
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError:
        pass
    return value
