"""`locks` on a healthy kernel: every lock static found from DWARF types, all free."""

from rustos_dbg import Machine
from rustos_dbg.inspect.kernel.locks import locks_view, read_locks


def test_every_kernel_lock_is_found_with_its_word_and_free_at_the_prompt(kernel_elf):
    m = Machine.boot(kernel_elf)
    assert m.run_until_serial("rustos> ") is None
    locks = read_locks(m, m.image)
    kinds = {k.name.rsplit("::", 1)[-1]: k.kind for k in locks.locks}
    for name in ("RUSTOS_HEAP", "RUSTOS_EXECUTOR", "RUSTOS_FRAMES", "SLEEPERS", "MAPPER_LOCK", "OWNED"):
        assert kinds.get(name) == "IrqMutex", (name, kinds)
    for name in ("SERIAL1", "WRITER", "PICS", "DEADLOCK_DEMO"):
        assert kinds.get(name) == "spin::Mutex", (name, kinds)
    heap = locks.lock("RUSTOS_HEAP")
    assert heap.word == heap.address == m.resolve("RUSTOS_HEAP")  # `locked` is IrqMutex's first field
    assert all(k.held is False for k in locks.locks)
    assert all(line.startswith("free   ") for line in locks_view(locks).splitlines())
    # A held lock is read as held.
    demo = locks.lock("DEADLOCK_DEMO")
    m.write_virtual(demo.word, b"\x01")
    assert read_locks(m, m.image).lock("DEADLOCK_DEMO").held is True
