"""Execution breakpoints as Unicorn hooks on single addresses (guest memory is never patched).

Contract: each breakpoint is a ``UC_HOOK_CODE`` hook on one address, which
costs nothing until it is reached; reaching it calls ``on_hit(address)``
before the instruction runs. Resuming from a breakpoint skips it once
(:meth:`resume_at`), so ``continue`` from a breakpoint makes progress.
Temporary breakpoints (``run(until=...)``, ``finish``) share the mechanism.
A breakpoint may have a ``condition``, a callable evaluated in the hook when
the address is reached: when it returns false the instruction runs on, with
no stop and no slice boundary, so a condition that never holds leaves the
run exactly as it was without the breakpoint (a temporary breakpoint at the
same address stops regardless). Unicorn applies code hooks when it
translates a block, so adding one drops the cached blocks that hold its
address.
"""

from __future__ import annotations

from unicorn import UC_HOOK_CODE

from .engine import drop_cached_code


class Breakpoints:
    """The execution breakpoints of one engine."""

    def __init__(self, uc, on_hit) -> None:
        """``on_hit(address)`` is called (from the hook) when one is reached."""
        self._uc = uc
        self._on_hit = on_hit
        self._hooks: dict[int, int] = {}
        self._users: dict[int, int] = {}
        self._temporary: dict[int, int] = {}
        self._conditions: dict[int, object] = {}
        self._skip: int | None = None

    def __contains__(self, address: int) -> bool:
        return address in self._users

    def addresses(self) -> list[int]:
        """Addresses with a breakpoint, sorted."""
        return sorted(a for a, n in self._users.items() if n > 0)

    def add(self, address: int, condition=None) -> None:
        """Sets a breakpoint at ``address`` (counted: add twice, remove twice);
        ``condition`` (if given) becomes the address's condition (see :meth:`set_condition`)."""
        self._install(address)
        if condition is not None:
            self.set_condition(address, condition)

    def set_condition(self, address: int, condition) -> None:
        """``condition()`` decides at each hit of the breakpoint at ``address``
        whether to stop (an exception in it counts as true); None: always stop."""
        if condition is None:
            self._conditions.pop(address, None)
        elif address in self._users:
            self._conditions[address] = condition

    def condition(self, address: int):
        """The condition of the breakpoint at ``address`` (None: unconditional)."""
        return self._conditions.get(address)

    def add_temporary(self, address: int) -> None:
        """A breakpoint that stops whatever the condition of the address (``until``, ``finish``)."""
        self._temporary[address] = self._temporary.get(address, 0) + 1
        self._install(address)

    def remove_temporary(self, address: int) -> bool:
        """Removes one temporary use of ``address``; False if there was none."""
        if self._temporary.get(address, 0) == 0:
            return False
        self._temporary[address] -= 1
        if not self._temporary[address]:
            del self._temporary[address]
        return self._uninstall(address)

    def _install(self, address: int) -> None:
        self._users[address] = self._users.get(address, 0) + 1
        if address not in self._hooks:
            self._hooks[address] = self._uc.hook_add(UC_HOOK_CODE, self._hit, None, address, address)
            # Code hooks are applied when a block is translated: drop cached blocks there.
            drop_cached_code(self._uc, address, address + 1)

    def remove(self, address: int) -> bool:
        """Removes one use of the breakpoint at ``address``; False if there was none."""
        if self._users.get(address, 0) <= self._temporary.get(address, 0):
            return False
        return self._uninstall(address)

    def _uninstall(self, address: int) -> bool:
        if self._users.get(address, 0) == 0:
            return False
        self._users[address] -= 1
        if self._users[address] == 0:
            del self._users[address]
            self._conditions.pop(address, None)
            self._uc.hook_del(self._hooks.pop(address))
        return True

    def resume_at(self, rip: int) -> None:
        """A run starts at ``rip``: do not stop there before executing it once
        (the skip holds until that address is reached, even across slices)."""
        self._skip = rip if rip in self._users else None

    def _hit(self, uc, address: int, size: int, _data) -> None:
        if self._skip == address:
            self._skip = None
            return
        self._skip = None
        if address not in self._users:
            return
        condition = self._conditions.get(address)
        if condition is None or self._temporary.get(address) or condition_holds(condition):
            self._on_hit(address)


def condition_holds(condition) -> bool:
    """A breakpoint's or watchpoint's condition's verdict; an error in it counts as
    true (the run stops, and the user sees why at the stop)."""
    try:
        return bool(condition())
    except Exception:
        return True
