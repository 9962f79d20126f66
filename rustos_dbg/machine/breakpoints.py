"""Execution breakpoints as Unicorn hooks on single addresses (guest memory is never patched).

Contract: each breakpoint is a ``UC_HOOK_CODE`` hook on one address, which
costs nothing until it is reached; reaching it calls ``on_hit(address)``
before the instruction runs. Resuming from a breakpoint skips it once
(:meth:`resume_at`), so ``continue`` from a breakpoint makes progress.
Temporary breakpoints (``run(until=...)``) share the mechanism. Unicorn applies
code hooks when it translates a block, so adding one drops the cached blocks
that hold its address.
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
        self._skip: int | None = None

    def __contains__(self, address: int) -> bool:
        return address in self._users

    def addresses(self) -> list[int]:
        """Addresses with a breakpoint, sorted."""
        return sorted(a for a, n in self._users.items() if n > 0)

    def add(self, address: int) -> None:
        """Sets a breakpoint at ``address`` (counted: add twice, remove twice)."""
        self._users[address] = self._users.get(address, 0) + 1
        if address not in self._hooks:
            self._hooks[address] = self._uc.hook_add(UC_HOOK_CODE, self._hit, None, address, address)
            # Code hooks are applied when a block is translated: drop cached blocks there.
            drop_cached_code(self._uc, address, address + 1)

    def remove(self, address: int) -> bool:
        """Removes one use of the breakpoint at ``address``; False if there was none."""
        if self._users.get(address, 0) == 0:
            return False
        self._users[address] -= 1
        if self._users[address] == 0:
            del self._users[address]
            self._uc.hook_del(self._hooks.pop(address))
        return True

    add_temporary = add
    remove_temporary = remove

    def resume_at(self, rip: int) -> None:
        """A run starts at ``rip``: do not stop there before executing it once
        (the skip holds until that address is reached, even across slices)."""
        self._skip = rip if rip in self._users else None

    def _hit(self, uc, address: int, size: int, _data) -> None:
        if self._skip == address:
            self._skip = None
            return
        self._skip = None
        if address in self._users:
            self._on_hit(address)
