"""Two 8259A programmable interrupt controllers in the PC cascade.

Ports: master 0x20 (command) / 0x21 (data), slave 0xA0 / 0xA1, and the
edge/level control registers (ELCR) 0x4D0 / 0x4D1.  The slave's output is
wired to the master's IRQ2.  Behaviour follows QEMU's i8259:

* ICW1 (command port, bit 4) starts initialisation and clears IMR/ISR/IRR
  edge state; ICW2 sets the vector offset (low 3 bits dropped); ICW3 is
  accepted and ignored; ICW4 (if ICW1 asked for it) sets auto-EOI and
  special fully nested mode.
* Afterwards the data port reads/writes IMR (OCW1); OCW2 does non-specific
  EOI (0x20), specific EOI (0x60 | n) and the rotations; OCW3 selects what
  the command port reads (0x0A: IRR, 0x0B: ISR), poll mode and special mask.
* Priorities: lowest IRQ number first (unless rotated); an IRQ is presented
  only if its priority beats every IRQ in service.

API for devices: ``raise_irq(n)`` / ``lower_irq(n)`` for lines 0-15.  Lines
are edge-triggered by default: a rising edge sets the IRR bit, which stays
set until acknowledged.  API for the CPU: ``pending()`` tells whether INTR is
asserted; ``acknowledge()`` performs INTA and returns the vector (spurious:
offset + 7 of the controller that had nothing).  ELCR bits (writable: master
0xF8, slave 0xDE; 0 until written) make lines level-triggered.  The initial
state is what a BIOS leaves: offsets 0x08 / 0x70, IMR 0xFB / 0xFF.
"""

from __future__ import annotations

from enum import IntEnum

from .base import Device

MASTER_CMD, MASTER_DATA = 0x20, 0x21
SLAVE_CMD, SLAVE_DATA = 0xA0, 0xA1
ELCR_MASTER, ELCR_SLAVE = 0x4D0, 0x4D1
CASCADE_IRQ = 2


class PicBits(IntEnum):
    """Bits of the initialisation and operation command words."""

    ICW1_INIT = 0x10
    ICW1_IC4 = 0x01
    ICW1_SINGLE = 0x02
    ICW4_AEOI = 0x02
    ICW4_SFNM = 0x10
    OCW3_SELECT = 0x08
    OCW3_RR = 0x02
    OCW3_RIS = 0x01
    OCW3_POLL = 0x04
    OCW3_ESMM = 0x40
    OCW3_SMM = 0x20
    OCW2_EOI = 0x20
    OCW2_SPECIFIC_EOI = 0x60


class Chip:
    """One 8259A; ``output`` is called with its INT level on every update."""

    FIELDS = (
        "irr", "isr", "imr", "last_irr", "elcr", "base", "init_state", "init4",
        "single", "auto_eoi", "rotate_on_aeoi", "sfnm", "special_mask",
        "read_isr", "poll", "priority_add",
    )

    def __init__(self, master: bool, base: int, imr: int, elcr_mask: int) -> None:
        """Create a controller in the post-BIOS state (offset ``base``)."""
        self.master = master
        self.elcr_mask = elcr_mask
        self.output = None
        self.irr = self.elcr = 0
        self.reset()
        self.base, self.imr = base, imr

    def reset(self) -> None:
        """The state ICW1 leaves behind (QEMU's pic_init_reset)."""
        self.last_irr = 0
        self.irr &= self.elcr
        self.isr = self.imr = self.base = self.priority_add = 0
        self.init_state = self.init4 = self.single = 0
        self.auto_eoi = self.rotate_on_aeoi = self.sfnm = 0
        self.special_mask = self.read_isr = self.poll = 0
        self.update()

    def _priority(self, mask: int) -> int:
        """Priority (0 best) of the best bit in ``mask``; 8 if none."""
        if not mask & 0xFF:
            return 8
        priority = 0
        while not mask & (1 << ((priority + self.priority_add) & 7)):
            priority += 1
        return priority

    def get_irq(self) -> int:
        """The IRQ (0-7) this chip would present now, or -1."""
        priority = self._priority(self.irr & ~self.imr)
        if priority == 8:
            return -1
        mask = self.isr
        if self.special_mask:
            mask &= ~self.imr
        if self.sfnm and self.master:
            mask &= ~(1 << CASCADE_IRQ)
        if priority < self._priority(mask):
            return (priority + self.priority_add) & 7
        return -1

    def update(self) -> None:
        """Recompute the INT output and tell whoever listens."""
        if self.output is not None:
            self.output(self.get_irq() >= 0)

    def set_irq(self, irq: int, level: bool) -> None:
        """Drive input line ``irq`` (0-7) to ``level``."""
        mask = 1 << irq
        if self.elcr & mask:
            if level:
                self.irr |= mask
                self.last_irr |= mask
            else:
                self.irr &= ~mask
                self.last_irr &= ~mask
        elif level:
            if not self.last_irr & mask:
                self.irr |= mask
            self.last_irr |= mask
        else:
            self.last_irr &= ~mask
        self.update()

    def intack(self, irq: int) -> None:
        """INTA for ``irq``: IRR to ISR (unless auto-EOI)."""
        if self.auto_eoi:
            if self.rotate_on_aeoi:
                self.priority_add = (irq + 1) & 7
        else:
            self.isr |= 1 << irq
        if not self.elcr & (1 << irq):
            self.irr &= ~(1 << irq)
        self.update()

    def write_command(self, value: int) -> None:
        """A write to the command port: ICW1, OCW2 or OCW3."""
        if value & PicBits.ICW1_INIT:
            self.reset()
            self.init_state = 1
            self.init4 = value & PicBits.ICW1_IC4
            self.single = value & PicBits.ICW1_SINGLE
        elif value & PicBits.OCW3_SELECT:
            if value & PicBits.OCW3_POLL:
                self.poll = 1
            if value & PicBits.OCW3_RR:
                self.read_isr = value & PicBits.OCW3_RIS
            if value & PicBits.OCW3_ESMM:
                self.special_mask = int(bool(value & PicBits.OCW3_SMM))
        else:
            self._ocw2(value)

    def _ocw2(self, value: int) -> None:
        """OCW2: EOIs and priority rotations."""
        cmd = value >> 5
        if cmd in (0, 4):
            self.rotate_on_aeoi = cmd >> 2
        elif cmd in (1, 5):
            priority = self._priority(self.isr)
            if priority != 8:
                irq = (priority + self.priority_add) & 7
                self.isr &= ~(1 << irq)
                if cmd == 5:
                    self.priority_add = (irq + 1) & 7
        elif cmd in (3, 7):
            irq = value & 7
            self.isr &= ~(1 << irq)
            if cmd == 7:
                self.priority_add = (irq + 1) & 7
        elif cmd == 6:
            self.priority_add = (value + 1) & 7
        self.update()

    def write_data(self, value: int) -> None:
        """A write to the data port: ICW2-ICW4 during init, else IMR."""
        if self.init_state == 0:
            self.imr = value
        elif self.init_state == 1:
            self.base = value & 0xF8
            self.init_state = 2 if not self.single else (3 if self.init4 else 0)
        elif self.init_state == 2:
            self.init_state = 3 if self.init4 else 0
        else:
            self.sfnm = (value >> 4) & 1
            self.auto_eoi = (value >> 1) & 1
            self.init_state = 0
        self.update()

    def read(self, data_port: bool) -> int:
        """A read of the command (IRR/ISR) or data (IMR) port, or a poll."""
        if self.poll:
            self.poll = 0
            irq = self.get_irq()
            if irq < 0:
                return 0
            self.intack(irq)
            return irq | 0x80
        if data_port:
            return self.imr
        return self.isr if self.read_isr else self.irr


class Pic(Device):
    """The master/slave 8259A pair of a PC."""

    name = "pic"
    ports = (MASTER_CMD, MASTER_DATA, SLAVE_CMD, SLAVE_DATA, ELCR_MASTER, ELCR_SLAVE)

    def __init__(
        self,
        master_base: int = 0x08,
        slave_base: int = 0x70,
        master_imr: int = 0xFB,
        slave_imr: int = 0xFF,
    ) -> None:
        """Create the pair as a BIOS leaves it: offsets 0x08/0x70, all
        lines masked but the cascade."""
        super().__init__()
        self.master = Chip(True, master_base, master_imr, 0xF8)
        self.slave = Chip(False, slave_base, slave_imr, 0xDE)
        self.slave.output = lambda level: self.master.set_irq(CASCADE_IRQ, level)
        self.slave.update()
        #: Number of INTA cycles that found nothing to deliver.
        self.spurious = 0

    def _chip(self, port: int) -> Chip:
        """The controller a port belongs to."""
        return self.master if port in (MASTER_CMD, MASTER_DATA, ELCR_MASTER) else self.slave

    def read(self, port: int, size: int) -> int:
        """Guest IN from a PIC or ELCR port."""
        chip = self._chip(port)
        if port in (ELCR_MASTER, ELCR_SLAVE):
            return chip.elcr
        return chip.read(port in (MASTER_DATA, SLAVE_DATA))

    def write(self, port: int, size: int, value: int) -> None:
        """Guest OUT to a PIC or ELCR port."""
        chip = self._chip(port)
        if port in (ELCR_MASTER, ELCR_SLAVE):
            chip.elcr = value & chip.elcr_mask
            chip.update()
        elif port in (MASTER_DATA, SLAVE_DATA):
            chip.write_data(value)
        else:
            chip.write_command(value)

    # -- lines and INTA --------------------------------------------------

    def raise_irq(self, irq: int) -> None:
        """Drive ISA line ``irq`` (0-15) high."""
        (self.master if irq < 8 else self.slave).set_irq(irq & 7, True)

    def lower_irq(self, irq: int) -> None:
        """Drive ISA line ``irq`` (0-15) low."""
        (self.master if irq < 8 else self.slave).set_irq(irq & 7, False)

    def pending(self) -> bool:
        """True if the master asserts INTR (an interrupt awaits INTA)."""
        return self.master.get_irq() >= 0

    def acknowledge(self) -> int:
        """INTA: move the best request to ISR and return its vector."""
        irq = self.master.get_irq()
        if irq < 0:
            self.spurious += 1
            return self.master.base + 7
        if irq == CASCADE_IRQ:
            irq2 = self.slave.get_irq()
            if irq2 >= 0:
                self.slave.intack(irq2)
            else:
                self.spurious += 1
                irq2 = 7
            vector = self.slave.base + irq2
        else:
            vector = self.master.base + irq
        self.master.intack(irq)
        return vector

    # -- inspection --------------------------------------------------------

    def _pair(self, field: str) -> int:
        """A 16-bit register made of the master (low) and slave (high) bytes."""
        return getattr(self.master, field) | getattr(self.slave, field) << 8

    @property
    def irr(self) -> int:
        """Requests, IRQ0-15 as bits 0-15."""
        return self._pair("irr")

    @property
    def isr(self) -> int:
        """In-service bits, IRQ0-15."""
        return self._pair("isr")

    @property
    def imr(self) -> int:
        """Mask bits, IRQ0-15."""
        return self._pair("imr")

    def snapshot(self) -> dict:
        """Both controllers' registers, plus 16-bit IRR/ISR/IMR views."""
        return {
            "now": self.now,
            "master": {f: getattr(self.master, f) for f in Chip.FIELDS},
            "slave": {f: getattr(self.slave, f) for f in Chip.FIELDS},
            "spurious": self.spurious,
            "irr": self.irr, "isr": self.isr, "imr": self.imr,
            "pending": self.pending(),
        }

    def restore(self, state: dict) -> None:
        """Put back a ``snapshot``."""
        self.now = state.get("now", self.now)
        self.spurious = state.get("spurious", 0)
        for chip, key in ((self.master, "master"), (self.slave, "slave")):
            for field in Chip.FIELDS:
                setattr(chip, field, state[key][field])
