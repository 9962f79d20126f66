"""``catch panic``: a stop of kind ``PANIC`` when the kernel enters its panic handler.

Contract: :class:`PanicCatch` (``machine.panics``; ``machine.catch_panic`` turns
it on and off) puts one code hook on the entry of the kernel's
``#[panic_handler]`` (the ELF symbol ``rust_begin_unwind``). Reaching it, before
the handler's first instruction runs, requests a ``StopKind.PANIC`` stop whose
``panic`` is a :class:`~.stops.PanicReport` (location, message, backtrace).
Decoding the ``PanicInfo`` needs the DWARF and the backtrace inspector, which
the machine layer does not import: the decoder is *installed* here by
:mod:`rustos_dbg.inspect.kernel.panic` when it is imported, and ``import
rustos_dbg`` installs a loader that imports it at the first panic, as for the
invariants (:mod:`.checking`); without one, or when decoding fails, the
report says why in its message and the stop still happens. Resuming from the
stop runs the handler (the hook is skipped once, as a breakpoint is). Like
breakpoints it stops nothing while the machine re-executes its past
(``control.quiet``), and costs nothing until the handler is reached.
"""

from __future__ import annotations

from unicorn import UC_HOOK_CODE

from .engine import drop_cached_code
from .errors import RustosDbgError
from .stops import PanicReport, StopKind

#: The ELF symbol of the kernel's ``#[panic_handler]``.
HANDLER_SYMBOL = "rust_begin_unwind"

_decoder = None
_loader = None


def install(decoder) -> None:
    """Makes ``decoder(machine, panic_info_address) -> PanicReport`` the decoder of panics."""
    global _decoder
    _decoder = decoder


def install_loader(loader) -> None:
    """``loader()`` imports the decoder (which then :func:`install` s itself), at the first panic."""
    global _loader
    _loader = loader


class PanicCatch:
    """The panic catch of one machine (see the module)."""

    def __init__(self, machine) -> None:
        """Off; ``machine`` is the machine whose handler it watches."""
        self._m = machine
        self._hook: int | None = None
        self._address: int | None = None
        self._skip: int | None = None

    @property
    def enabled(self) -> bool:
        """True while the handler's entry stops the run."""
        return self._hook is not None

    def handler(self) -> int:
        """The panic handler's address (a one-line error when the kernel has none)."""
        sym = self._m.symbols.find(HANDLER_SYMBOL)
        if sym is None:
            raise RustosDbgError(f"the kernel has no panic handler symbol ({HANDLER_SYMBOL})")
        return sym.address

    def enable(self, on: bool = True) -> None:
        """Turns the catch on (hooks the handler's entry) or off."""
        uc = self._m.uc
        if on and self._hook is None:
            self._address = self.handler()
            self._hook = uc.hook_add(UC_HOOK_CODE, self._hit, None, self._address, self._address)
            drop_cached_code(uc, self._address, self._address + 1)
        elif not on and self._hook is not None:
            uc.hook_del(self._hook)
            self._hook = None

    def resume_at(self, rip: int) -> None:
        """A run starts at ``rip``: a run resumed at the handler's entry runs it."""
        self._skip = rip if rip == self._address else None

    def _hit(self, uc, address: int, size: int, _data) -> None:
        m = self._m
        if self._skip == address:
            self._skip = None
            return
        self._skip = None
        if m.control.quiet:
            return
        counter = m.clock.counter
        if counter is not None:
            counter.before(address)  # stopped before the handler's first instruction
        m.hooks.request(StopKind.PANIC, panic=self.decode())

    def decode(self) -> PanicReport:
        """The report of the panic whose handler is being entered (``rdi`` = ``&PanicInfo``)."""
        if _decoder is None and _loader is not None:
            _loader()
        if _decoder is None:
            return PanicReport(None, 0, 0, "(no panic decoder installed: import rustos_dbg.inspect.kernel.panic)")
        try:
            return _decoder(self._m, self._m.reg("rdi"))
        except Exception as e:  # an unreadable PanicInfo must not lose the stop
            return PanicReport(None, 0, 0, f"(the PanicInfo could not be decoded: {e})")
