"""Hang detection: a stop of kind ``HANG`` when the guest stops making progress.

Contract: :meth:`HangWatch.on_slice` is called once between two slices of a
run (one call in the run loop: :mod:`.execution`) and requests a
``StopKind.HANG`` stop (through :class:`~.control.RunControl`) when, for
:attr:`HangWatch.timeout_ns` of virtual time (default
:data:`DEFAULT_TIMEOUT_MS` ms; ``set hang-timeout MS`` in the REPL):

* interrupts stayed disabled (RFLAGS.IF clear at every slice boundary): when
  a general register then points into a kernel static (a lock word), it is a
  *deadlock*: the report names that static, the spinning code, the IRQ in
  service (the PIC's ISR: "in IRQ n") and, with a recorded history, the
  holder: the last write that took the lock word (0 -> nonzero) with its
  instruction, symbol, line, task or handler, whether interrupts were on,
  and how long ago in instructions and virtual ms;
* an IRQ stayed in service (its bit set in the PIC's ISR): no EOI.

Sampling is at slice boundaries (at most every 200000 instructions and at
every device event), so a state must hold at every sample of the timeout to
count. HLT with interrupts disabled is a ``HANG`` at once (the run loop's
idle path: no sampling needed, nothing can end it). It
watches nothing while the machine re-executes its recorded past (behind
``history.end``, or ``control.quiet``), nor when ``timeout_ns`` is None, nor
in the fast mode (its clock is the host's, which runs on while the host is
busy: a loaded host would look like a hang).
"""

from __future__ import annotations

from .stops import Stop, StopKind

DEFAULT_TIMEOUT_MS = 100  #: virtual milliseconds without progress that make a hang
_IF = 1 << 9
_GPRS = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15")


class HangWatch:
    """Hang detection of one machine (see the module)."""

    def __init__(self, machine) -> None:
        """Watches ``machine`` with the default timeout."""
        self._m = machine
        #: Virtual nanoseconds without progress that make a hang (None: off).
        self.timeout_ns: int | None = DEFAULT_TIMEOUT_MS * 1_000_000
        self._if_off: tuple[int, int] | None = None      # (since ns, since icount)
        self._isr: tuple[int, int, int] | None = None    # (isr, since ns, since icount)
        self._last_ns = 0

    def reset(self) -> None:
        """Forgets what was seen (after the machine went elsewhere in time)."""
        self._if_off = self._isr = None

    def on_slice(self) -> None:
        """Samples the CPU and the PIC; requests a HANG stop on a hang."""
        m = self._m
        if self.timeout_ns is None or m.clock.counter is None or m.control.quiet or m.control.pending is not None:
            return  # off, the fast mode (its host clock runs on while the host is busy), replaying, or a stop due
        if m.history.enabled and m.icount < m.history.end:
            return  # re-executing the recorded past (reverse-continue scans it with plain runs)
        now = m.clock.now_ns()
        if now < self._last_ns:
            self.reset()
        self._last_ns = now
        if m.cpu.reg("rflags") & _IF:
            self._if_off = None
        elif self._if_off is None:
            self._if_off = (now, m.icount)
        elif now - self._if_off[0] >= self.timeout_ns:
            m.control.request(self._interrupts_off(now))
            return
        isr = m.devices.pic.isr
        if not isr:
            self._isr = None
        elif self._isr is None or self._isr[0] != isr:
            self._isr = (isr, now, m.icount)
        elif now - self._isr[1] >= self.timeout_ns:
            irq = _lowest(isr)
            m.control.request(self._stop(f"IRQ {irq} in service without EOI for {_ms(now - self._isr[1])} "
                                         f"(since instruction {self._isr[2]}): the PIC holds back IRQ {irq} "
                                         f"and every lower-priority IRQ"))

    def _stop(self, message: str) -> Stop:
        m = self._m
        return Stop(StopKind.HANG, m.cpu.reg("rip"), m.icount, message=message)

    def _interrupts_off(self, now: int) -> Stop:
        m = self._m
        since_ns, since = self._if_off
        rip = m.cpu.reg("rip")
        isr = m.devices.pic.isr
        context = f"in IRQ {_lowest(isr)}" if isr else "with interrupts off"
        lock = self._lock_word()
        if lock is None:
            return self._stop(f"interrupts disabled for {_ms(now - since_ns)} (since instruction {since}) "
                              f"at {m.symbolize(rip)}")
        text = (f"deadlock: {m.symbolize(rip)} spins on {m.symbolize(lock)} ({lock:#x}) {context}, "
                f"interrupts off for {_ms(now - since_ns)} (since instruction {since})")
        return self._stop(text + self._holder(lock, isr))

    def _lock_word(self) -> int | None:
        """The kernel static the spin loop at rip reads (a memory operand of the
        loop that branches back over rip), else one a general register points into."""
        m = self._m
        for address in (*spin_loop_operands(m), *(m.cpu.reg(name) for name in _GPRS)):
            symbol = m.symbols.containing(address)
            if symbol is not None and symbol.kind == "object":
                return address
        return None

    def _holder(self, lock: int, isr: int) -> str:
        m = self._m
        if not m.history.enabled:
            return "; the holder: unknown (no recorded history)"
        try:
            taken = lock_holder(m, lock)
        except Exception as e:  # an unmapped word: say so, the hang stays reported
            return f"; the holder: unknown ({e})"
        if taken is None:
            return "; the holder: unknown (not taken in the last 10 writes of the recorded history)"
        w, interrupts = taken
        ago = m.icount - w.icount
        where = f" at {w.line}" if w.line else ""
        again = f", then again in IRQ {_lowest(isr)}" if isr else ""
        return (f"; taken at instruction {w.icount} ({ago} instructions, {_ms(ago)} ago) by "
                f"{w.symbol}{where} in {w.context.describe()} with interrupts {'on' if interrupts else 'off'}{again}")


def lock_holder(m, word: int):
    """The write that took the lock ``word`` (the latest of its last 10 writes that
    changed it from 0 to nonzero: a failed ``lock cmpxchg`` writes the same value
    back) and whether interrupts were on just before it, or None; needs the
    recorded history; the machine comes back to where it was."""
    quiet = m.control.quiet
    try:
        w = next((w for w in m.history.last_writes(word, 1, limit=10) if not w.old[0] and w.new[0]), None)
        if w is None:
            return None
        now = m.icount
        m.history.goto(w.icount - 1)  # just before the taking instruction
        interrupts = bool(m.cpu.reg("rflags") & _IF)
        m.history.goto(now)
    finally:
        m.control.quiet = quiet
    return w, interrupts


def spin_loop_operands(m, reach: int = 64) -> list[int]:
    """The memory operands of the loop rip is in: from the target of the first
    backward branch at or after rip (within ``reach`` bytes) up to that branch."""
    from capstone import CS_ARCH_X86, CS_GRP_JUMP, CS_MODE_64, Cs   # only when a hang is explained
    from capstone.x86_const import X86_OP_IMM, X86_OP_MEM, X86_REG_RIP

    md = Cs(CS_ARCH_X86, CS_MODE_64)
    md.detail = True
    rip = m.cpu.reg("rip")
    try:
        ahead = list(md.disasm(m.read_virtual(rip, reach), rip))
    except Exception:
        return []
    mask = 2**64 - 1
    back = next((i for i in ahead[:8] if i.group(CS_GRP_JUMP) and i.operands and i.operands[0].type == X86_OP_IMM
                 and rip - reach <= i.operands[0].imm & mask <= rip), None)
    if back is None:
        return []
    start = back.operands[0].imm & mask
    found = []
    for insn in md.disasm(m.read_virtual(start, back.address - start + back.size), start):
        for op in insn.operands:
            if op.type != X86_OP_MEM:
                continue
            if op.mem.base == X86_REG_RIP:
                found.append((insn.address + insn.size + op.mem.disp) & mask)
            elif op.mem.base and not op.mem.index:
                found.append((m.cpu.reg(insn.reg_name(op.mem.base)) + op.mem.disp) & mask)
    return found


def _lowest(isr: int) -> int:
    return (isr & -isr).bit_length() - 1


def _ms(ns: int) -> str:
    return f"{ns / 1e6:.1f} ms"
