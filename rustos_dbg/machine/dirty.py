"""Which pages of guest RAM were written: dirty-page tracking by write protection.

Contract: :func:`tracked_ram` returns a :class:`TrackedRam` (RAM that the
machine maps into Unicorn with ``mem_map_ptr``), or None where the host
cannot track (not Linux x86-64 with 4 KiB pages, or no C compiler to build
``native/dirtypages.c``; the reason is in :data:`unavailable`). After
:meth:`TrackedRam.arm`, :meth:`TrackedRam.written` gives every page written
since, by the emulated CPU or by anyone else in the process, and re-arms.
The cost is one host page fault per page on its first write after arming:
nothing per instruction.

Code pages (:meth:`TrackedRam.watch_code`) are write-protected whether or
not the RAM is armed: a write to one sets :meth:`TrackedRam.code_written`
and stores 0 in the registered stop word (:meth:`TrackedRam.stop_on_code_write`),
so the engine stops and the machine drops the translated code of the page
before it runs (Unicorn itself notices only writes through the virtual
address the code ran at).

The native part (a SIGSEGV handler that marks the page and makes it writable
again) is compiled once per source version into the user's cache directory
(``$XDG_CACHE_HOME/rustos-dbg``) with the system's ``cc``.
"""

from __future__ import annotations

import ctypes
import hashlib
import mmap
import os
import platform
import subprocess
import sys
import tempfile
import weakref
from pathlib import Path

from ..cachedir import cache_dir

PAGE = 4096
_SOURCE = Path(__file__).with_name("native") / "dirtypages.c"

#: Why tracking is unavailable on this host (None: available, or not tried yet).
unavailable: str | None = None
_lib = None


def _cache_dir() -> Path:
    return cache_dir()


def _build() -> ctypes.CDLL | None:
    """The native library, compiled on first use (None, and :data:`unavailable` set, when impossible)."""
    global unavailable
    if not sys.platform.startswith("linux") or platform.machine() not in ("x86_64", "AMD64") or mmap.PAGESIZE != PAGE:
        unavailable = "dirty-page tracking needs Linux on x86-64 with 4 KiB pages"
        return None
    source = _SOURCE.read_bytes()
    target = _cache_dir() / f"dirtypages-{hashlib.sha256(source).hexdigest()[:16]}.so"
    if not target.exists():
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(suffix=".so", dir=target.parent)
            os.close(fd)
            done = subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", tmp, str(_SOURCE)],
                                  capture_output=True, text=True, timeout=60)
            if done.returncode != 0:
                os.unlink(tmp)
                unavailable = f"cc could not build {_SOURCE.name}: {done.stderr.strip().splitlines()[-1:]}"
                return None
            os.replace(tmp, target)  # atomic: concurrent processes agree on one file
        except (OSError, subprocess.SubprocessError) as e:
            unavailable = f"no C compiler to build {_SOURCE.name} ({e})"
            return None
    lib = ctypes.CDLL(str(target))
    lib.dp_alloc.argtypes = [ctypes.c_size_t, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]
    for name in ("dp_release", "dp_arm", "dp_disarm", "dp_overflow", "dp_take_code_written"):
        getattr(lib, name).argtypes = [ctypes.c_int]
    lib.dp_code_map.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
    lib.dp_watch_code.argtypes = [ctypes.c_int, ctypes.c_size_t]
    return lib


def _library():
    global _lib
    if _lib is None and unavailable is None:
        _lib = _build()
    return _lib


class TrackedRam:
    """``size`` bytes of host memory for guest RAM, with its written pages tracked."""

    def __init__(self, lib, size: int) -> None:
        """Use :func:`tracked_ram`."""
        self._lib = lib
        self.size = size
        self.pages = size // PAGE
        self._map = (ctypes.c_uint8 * self.pages)()
        base = ctypes.c_void_p()
        self._slot = lib.dp_alloc(size, ctypes.addressof(self._map), ctypes.byref(base))
        if self._slot < 0:
            raise OSError("could not map guest RAM for dirty-page tracking")
        #: The host address of guest physical 0.
        self.address = base.value
        self.armed = False
        self._code = (ctypes.c_uint8 * self.pages)()
        lib.dp_code_map(self._slot, ctypes.addressof(self._code), None)
        self._finalizer = weakref.finalize(self, lib.dp_release, self._slot)

    def keep_alive_with(self, owner) -> None:
        """Keeps this RAM mapped as long as ``owner`` (the Unicorn engine using it) lives."""
        weakref.finalize(owner, lambda ram: None, self)

    def read(self, addr: int, n: int) -> bytes:
        """``n`` bytes at physical ``addr``, straight from host memory."""
        return ctypes.string_at(self.address + addr, n)

    def stop_on_code_write(self, word_address: int | None) -> None:
        """Stores 0 at the 8-byte word at ``word_address`` (the instruction counter's
        limit) whenever a code page is written (None: nothing is stored)."""
        self._lib.dp_code_map(self._slot, ctypes.addressof(self._code), word_address)

    def watch_code(self, page: int) -> None:
        """Marks physical page ``page`` as holding translated code: its next write is reported."""
        if 0 <= page < self.pages and not self._code[page]:
            if self._lib.dp_watch_code(self._slot, page) != 0:
                raise OSError(ctypes.get_errno(), "could not write-protect a code page")

    def code_written(self) -> bool:
        """Whether a code page was written since the last call."""
        return bool(self._lib.dp_take_code_written(self._slot))

    def arm(self) -> None:
        """Forgets the pages written so far and tracks writes from now on."""
        ctypes.memset(self._map, 0, self.pages)
        if self._lib.dp_arm(self._slot) != 0:
            raise OSError(ctypes.get_errno(), "could not write-protect guest RAM")
        self.armed = True

    def written(self) -> list[int] | None:
        """The pages written since :meth:`arm` (None: possibly all of them), and re-arms."""
        if not self.armed:
            return None
        overflow = self._lib.dp_overflow(self._slot)
        marks = bytes(self._map)
        self.arm()
        return None if overflow else marked(marks)


def marked(marks: bytes) -> list[int]:
    """The indices of the non-zero bytes of ``marks`` (a byte map holding 0 and 1)."""
    found, at = [], marks.find(1)
    while at >= 0:
        found.append(at)
        at = marks.find(1, at + 1)
    return found


def tracked_ram(size: int) -> TrackedRam | None:
    """Tracked RAM of ``size`` bytes, or None where the host cannot track (see :data:`unavailable`)."""
    if os.environ.get("RUSTOS_DBG_NO_DIRTY_TRACKING"):
        return None
    lib = _library()
    return TrackedRam(lib, size) if lib is not None else None
