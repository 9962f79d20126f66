"""The I/O port bus of the emulated PC.

``PortBus`` maps each port to the device that owns it and dispatches guest
IN/OUT accesses.  Contract:

* ``read(port, size)`` / ``write(port, size, value)`` never raise.  A port
  nobody owns is recorded in a bounded log ``unknown`` (entries
  ``UnknownAccess(port, size, direction, value)``) and a read of it returns
  all-ones (0xff / 0xffff / 0xffffffff by size).  An access wider than the
  device's ``access_sizes`` is split into byte accesses on consecutive ports,
  combined little-endian.  A device that raises is recorded in ``errors`` and
  the access behaves as for an unknown port, unless the bus is ``strict``.
* Time: devices act at their last ``tick(now)``.  Give the bus a ``clock``
  (a callable returning the current virtual time in ns) and it ticks every
  device to that time before each access; otherwise call ``tick(now)``
  yourself before accesses that depend on time.
* ``tick(now)`` ticks all devices; ``next_event(now)`` is the earliest
  ``next_event`` of all devices (``None`` when none has one).
"""

from __future__ import annotations

from collections import deque
from typing import Callable, Iterable, NamedTuple

from .base import ALL_ONES, Device, IrqLine, size_mask


class UnknownAccess(NamedTuple):
    """One access to a port no device owns (value is None for a read)."""

    port: int
    size: int
    direction: str
    value: int | None


class PortBus:
    """Registers devices by their ports and dispatches accesses to them."""

    def __init__(
        self,
        devices: Iterable[Device] = (),
        clock: Callable[[], int] | None = None,
        log_size: int = 256,
        strict: bool = False,
    ) -> None:
        """Create a bus holding ``devices``.

        ``clock`` gives the virtual time for accesses; ``log_size`` bounds the
        unknown-access and error logs; ``strict`` re-raises device errors.
        """
        self.devices: list[Device] = []
        self._ports: dict[int, Device] = {}
        self.clock = clock
        self.strict = strict
        self.unknown: deque[UnknownAccess] = deque(maxlen=log_size)
        self.unknown_count = 0
        self.errors: deque[str] = deque(maxlen=log_size)
        for device in devices:
            self.register(device)

    def register(self, device: Device) -> Device:
        """Add ``device``; raises ``ValueError`` if one of its ports is taken."""
        ports = list(device.ports)
        for port in ports:
            owner = self._ports.get(port)
            if owner is not None:
                raise ValueError(
                    f"port {port:#x} of {device.name} already owned by {owner.name}"
                )
        for port in ports:
            self._ports[port] = device
        self.devices.append(device)
        return device

    def owner(self, port: int) -> Device | None:
        """Return the device owning ``port``, or None."""
        return self._ports.get(port)

    def device(self, name: str) -> Device:
        """Return the registered device called ``name`` (KeyError if none)."""
        for device in self.devices:
            if device.name == name:
                return device
        raise KeyError(name)

    # -- guest accesses -------------------------------------------------

    def read(self, port: int, size: int = 1) -> int:
        """Dispatch a guest IN of ``size`` bytes from ``port``."""
        self._sync()
        port &= 0xFFFF
        device = self._ports.get(port)
        if device is not None and size in device.access_sizes:
            return self._dev_read(device, port, size)
        if not self._split(port, size):
            return self._unknown(port, size, "in", None)
        value = 0
        for i in range(size):
            value |= self._read_byte(port + i) << (8 * i)
        return value

    def write(self, port: int, size: int, value: int) -> None:
        """Dispatch a guest OUT of ``size`` bytes of ``value`` to ``port``."""
        self._sync()
        port &= 0xFFFF
        value &= size_mask(size)
        device = self._ports.get(port)
        if device is not None and size in device.access_sizes:
            self._dev_write(device, port, size, value)
        elif not self._split(port, size):
            self._unknown(port, size, "out", value)
        else:
            for i in range(size):
                self._write_byte(port + i, (value >> (8 * i)) & 0xFF)

    def _split(self, port: int, size: int) -> bool:
        """True if a device owns any port of the access (so split it)."""
        return any(((port + i) & 0xFFFF) in self._ports for i in range(size))

    def _read_byte(self, port: int) -> int:
        """Read one byte of a split access."""
        device = self._ports.get(port & 0xFFFF)
        if device is None:
            return self._unknown(port & 0xFFFF, 1, "in", None)
        return self._dev_read(device, port & 0xFFFF, 1)

    def _write_byte(self, port: int, value: int) -> None:
        """Write one byte of a split access."""
        device = self._ports.get(port & 0xFFFF)
        if device is None:
            self._unknown(port & 0xFFFF, 1, "out", value)
        else:
            self._dev_write(device, port & 0xFFFF, 1, value)

    def _dev_read(self, device: Device, port: int, size: int) -> int:
        """Call ``device.read`` guarded against errors."""
        try:
            return device.read(port, size) & size_mask(size)
        except Exception as exc:  # noqa: BLE001 - the bus never raises
            if self.strict:
                raise
            self.errors.append(f"{device.name} in {port:#x}/{size}: {exc!r}")
            return ALL_ONES[size]

    def _dev_write(self, device: Device, port: int, size: int, value: int) -> None:
        """Call ``device.write`` guarded against errors."""
        try:
            device.write(port, size, value)
        except Exception as exc:  # noqa: BLE001 - the bus never raises
            if self.strict:
                raise
            self.errors.append(f"{device.name} out {port:#x}/{size}={value:#x}: {exc!r}")

    def _unknown(self, port: int, size: int, direction: str, value: int | None) -> int:
        """Log an access to an unowned port; return the all-ones read value."""
        self.unknown.append(UnknownAccess(port, size, direction, value))
        self.unknown_count += 1
        return ALL_ONES.get(size, size_mask(size))

    def _sync(self) -> None:
        """Tick the devices to the clock's time, if the bus has a clock."""
        if self.clock is not None:
            self.tick(self.clock())

    # -- time ------------------------------------------------------------

    def tick(self, now: int) -> None:
        """Advance every device to virtual time ``now``."""
        for device in self.devices:
            device.tick(now)

    def next_event(self, now: int) -> int | None:
        """Earliest next timed event over all devices, or None."""
        times = [t for t in (d.next_event(now) for d in self.devices) if t is not None]
        return min(times) if times else None

    # -- state -------------------------------------------------------------

    def snapshot(self) -> dict:
        """Plain-data state of every device, keyed by name (with the levels of
        its interrupt lines), plus the logs."""
        return {
            "devices": {d.name: d.snapshot() for d in self.devices},
            "irq_lines": {d.name: _line_levels(d) for d in self.devices},
            "unknown": [list(u) for u in self.unknown],
            "unknown_count": self.unknown_count,
            "errors": list(self.errors),
        }

    def restore(self, state: dict) -> None:
        """Put back the device states of a ``snapshot`` (logs are kept)."""
        for device in self.devices:
            if device.name in state.get("devices", {}):
                device.restore(state["devices"][device.name])
            for attr, level in state.get("irq_lines", {}).get(device.name, {}).items():
                getattr(device, attr).level = level  # the PIC's own state is restored with it


def _line_levels(device) -> dict[str, bool]:
    """The level of each :class:`IrqLine` a device drives, by attribute name."""
    return {name: line.level for name, line in vars(device).items() if isinstance(line, IrqLine)}
