"""Where :meth:`Machine.check` and :meth:`Machine.bisect` find the kernel's invariants.

Contract: the invariants decode kernel structures, which is the inspectors'
job, and the machine layer never imports the inspectors; so they are
*installed* here by :mod:`rustos_dbg.inspect.invariants` when it is imported.
``import rustos_dbg`` installs a loader instead (:func:`install_loader`), so
the inspectors are imported on the first check, not at every start.
:func:`provider` returns the installed module (``run_checks(machine, names)``,
``bisect(machine, name, move)``), or raises a one-line
:class:`~.errors.RustosDbgError` when none is.
"""

from __future__ import annotations

from .errors import RustosDbgError

_provider = None
_loader = None


def install(provider) -> None:
    """Makes ``provider`` the source of :meth:`Machine.check` and :meth:`Machine.bisect`."""
    global _provider
    _provider = provider


def install_loader(loader) -> None:
    """``loader()`` imports the invariants (which then :func:`install` themselves),
    at the first :func:`provider` call."""
    global _loader
    _loader = loader


def provider():
    """The installed invariants (see the module)."""
    if _provider is None and _loader is not None:
        _loader()
    if _provider is None:
        raise RustosDbgError("no invariants installed: import rustos_dbg.inspect.invariants")
    return _provider
