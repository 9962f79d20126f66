"""pytest plugin: fixtures that boot RustOS in the rustos-dbg emulator.

Enable it from a **top-level** ``conftest.py`` with
``pytest_plugins = ["rustos_dbg.testing"]``, or on the command line with
``pytest -p rustos_dbg.testing``. (pytest refuses ``pytest_plugins`` in a
conftest below the rootdir's first level; there, import the fixtures instead:
``from rustos_dbg.testing import boot_machine, rustos_elf, rustos_machine``.)

Contract:

``rustos_elf`` (session scope)
    :class:`~pathlib.Path` of the kernel ELF: ``$RUSTOS_ELF`` when set, else
    ``<repo>/build/rustos.elf``. A missing file is built once per session with
    ``<repo>/scripts/build-kernel``; when that is impossible or fails, the
    tests that need the kernel error with one line saying why.

``boot_machine`` (function scope)
    A factory ``boot_machine(cmdline="", mode="deterministic", catch_panic=False, **kwargs)``
    returning a fresh :class:`~rustos_dbg.Machine` booted from ``rustos_elf``
    with that kernel command line and mode (``kwargs`` go to
    :meth:`Machine.boot`, e.g. ``ram_mb``); ``catch_panic`` sets
    :attr:`Machine.catch_panic`. The machine is stopped at the
    kernel's entry (pvh_start32): nothing has run yet. Every call builds a new machine.

``--rustos-coverage FILE`` (command-line option)
    Every deterministic machine that ``boot_machine`` (and so
    ``rustos_machine``) boots records the kernel source lines it executes; at
    the end of the session FILE receives one lcov tracefile of them all
    (:mod:`rustos_dbg.analysis.coverage`).

Failure bundles
    When a test that booted machines through these fixtures fails, each
    deterministic machine's run is written as a bundle
    (:mod:`rustos_dbg.analysis.bundle`) to ``--rustos-bundles DIR`` (default
    ``build/bundles`` under the rootdir; ``none``: no bundles), and the
    failure's report gains a section with the command that reopens it at the
    failure: ``rustos-dbg debug --bundle FILE``.

``rustos_machine`` (function scope)
    A fresh deterministic machine in shell mode (empty command line), already
    run until the prompt ``rustos> `` appeared on COM1; the test fails with
    the stop and the end of the serial output if it does not. It catches
    panics: a kernel panic stops it (a ``panic`` stop).

Panics in reports
    When a test fails and a machine of these fixtures last stopped in the
    kernel's panic handler, the report gets a ``rustos panic`` section: ``panic
    at FILE:LINE: MESSAGE`` and the backtrace. :class:`SerialNotSeen` says the
    same when the panic is the stop that came first.

:class:`LineEnds`
    An ``on_serial`` callback for :meth:`Machine.boot` that records the
    instruction count at the end of every COM1 line (exactness tests).

:func:`run_to_serial` ``(machine, text, ...)``
    Runs a machine until ``text`` appears on COM1 after what it held before
    the call and returns the serial output of the call, through
    :meth:`Machine.run_until_serial`: the output is checked between slices,
    whose ends depend on instruction counts and device events only, so host
    time only bounds the wait (it never decides where the machine stops).
    Any other stop (a breakpoint, a caught exception, the kernel exiting or
    halting, ...) before ``text`` appears raises :class:`SerialNotSeen`, an
    :class:`AssertionError` naming the stop and the end of the output.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .kernelfile import ensure_kernel
from .machine import Machine, StopKind
from .machine.errors import RustosDbgError


#: The shell's prompt.
PROMPT = "rustos> "
#: Default bound on the instructions :func:`run_to_serial` may execute.
MAX_INSTRUCTIONS = 100_000_000


class LineEnds:
    """``on_serial`` callback: ``ends`` lists (line, instruction count when its
    newline was written) of the machine set in ``machine`` (after the boot)."""

    def __init__(self) -> None:
        """No machine, no lines yet."""
        self.machine: Machine | None = None
        self.ends: list[tuple[str, int]] = []
        self._line = bytearray()

    def __call__(self, byte: int) -> None:
        if byte != 0x0A:
            self._line.append(byte)
            return
        self.ends.append((self._line.decode("utf-8", "replace").rstrip("\r"), self.machine.icount))
        self._line.clear()

    @classmethod
    def boot(cls, elf, cmdline: str = "") -> tuple[Machine, "LineEnds"]:
        """A machine booted from ``elf`` with its line ends recorded."""
        lines = cls()
        lines.machine = Machine.boot(elf, cmdline=cmdline, on_serial=lines)
        return lines.machine, lines


class SerialNotSeen(AssertionError):
    """The text waited for did not appear on COM1."""


def _tail(text: str, n: int = 1500) -> str:
    return text[-n:] if len(text) > n else text


def run_to_serial(machine: Machine, text: str, *, max_instructions: int = MAX_INSTRUCTIONS,
                  timeout: float = 60.0) -> str:
    """Runs ``machine`` until ``text`` appears on COM1; returns what COM1 received meanwhile.

    Raises :class:`SerialNotSeen` when the machine stops for another reason,
    after ``max_instructions`` (deterministic mode) or after ``timeout`` host
    seconds.
    """
    start = len(machine.serial_output)
    limit = max_instructions if machine.mode == "deterministic" else None
    stop = machine.run_until_serial(text, timeout=timeout, max_instructions=limit)
    if stop is None:
        return machine.serial_output[start:]
    if stop.kind is StopKind.TIME_LIMIT:
        why = f"not within {timeout} s of host time"
    elif stop.kind is StopKind.INSTRUCTION_LIMIT:
        why = f"not within {max_instructions} instructions"
    else:
        why = f"the machine stopped first: {stop.describe()} ({machine.symbolize(stop.rip)})"
        if stop.panic is not None:
            why += "\n" + panic_text(stop.panic)
    raise SerialNotSeen(f"{text!r} did not appear on serial: {why}\n--- serial output of the wait ---\n"
                        f"{_tail(machine.serial_output[start:])}")


_COVERAGES = pytest.StashKey[list]()


_MACHINES = pytest.StashKey[list]()


def pytest_addoption(parser) -> None:
    """``--rustos-coverage FILE`` and ``--rustos-bundles DIR``."""
    parser.addoption("--rustos-coverage", metavar="FILE", default=None,
                     help="write the kernel source lines executed by the booted machines to FILE (lcov)")
    parser.addoption("--rustos-bundles", metavar="DIR", default=None,
                     help="where a failing test's machines are written as bundles (default: build/bundles; "
                          "'none': not written)")


def panic_text(report) -> str:
    """A panic report as a failing test shows it: the headline and the backtrace."""
    from .inspect.kernel.panic import format_panic

    return format_panic(report)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing test's machines: a panic they stopped at shown (``rustos panic``), and
    the machines written as bundles, named in its report."""
    outcome = yield
    report = outcome.get_result()
    machines = item.stash.get(_MACHINES, [])
    if report.when != "call" or not report.failed or not machines:
        return
    for machine in machines:
        stop = machine.last_stop
        if stop is not None and stop.kind is StopKind.PANIC and stop.panic is not None:
            report.sections.append(("rustos panic", panic_text(stop.panic)))
    where = item.config.getoption("--rustos-bundles", default=None)
    if where == "none":
        return
    from .analysis.bundle import write_bundle

    folder = Path(where) if where else Path(item.config.rootpath) / "build" / "bundles"
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in item.nodeid)[-150:]
    lines = []
    for n, machine in enumerate(m for m in machines if m.counter is not None):
        try:
            path = write_bundle(machine, folder / f"{name}-{n}.json", test=item.nodeid)
        except Exception as e:  # a bundle must never hide the test's own failure
            lines.append(f"no bundle: {e}")
            continue
        lines.append(f"reopen at the failure: rustos-dbg debug --bundle {path}")
    report.sections.append(("rustos-dbg bundles", "\n".join(lines)))


def pytest_configure(config) -> None:
    """Registers the marker of tests that boot the emulator."""
    config.addinivalue_line("markers", "emulator: boots the kernel in the rustos-dbg emulator")
    config.stash[_COVERAGES] = []


def pytest_sessionfinish(session) -> None:
    """Writes the ``--rustos-coverage`` tracefile."""
    path = session.config.getoption("--rustos-coverage")
    coverages = session.config.stash.get(_COVERAGES, [])
    if path and coverages:
        from .analysis.coverage import lcov_text

        first = coverages[0].image.path
        Path(path).write_text(lcov_text([c for c in coverages if c.image.path == first]))


@pytest.fixture(scope="session")
def rustos_elf() -> Path:
    """The kernel ELF ($RUSTOS_ELF or <repo>/build/rustos.elf), built when missing."""
    try:
        return ensure_kernel()
    except RustosDbgError as e:
        pytest.fail(str(e), pytrace=False)


@pytest.fixture
def boot_machine(rustos_elf, request):
    """Factory: ``boot_machine(cmdline="", mode="deterministic", catch_panic=False, **kwargs)``
    -> a fresh Machine at its entry."""
    covering = request.config.getoption("--rustos-coverage", default=None)

    def boot(cmdline: str = "", mode: str = "deterministic", catch_panic: bool = False, **kwargs) -> Machine:
        machine = Machine.boot(rustos_elf, cmdline=cmdline, mode=mode, **kwargs)
        machine.catch_panic = catch_panic
        request.node.stash.setdefault(_MACHINES, []).append(machine)
        if covering and machine.counter is not None:
            from .analysis.coverage import Coverage

            request.config.stash[_COVERAGES].append(Coverage(machine))
        return machine

    yield boot
    request.node.stash[_MACHINES] = []  # bundles are written by now: let the machines go


@pytest.fixture
def rustos_machine(boot_machine) -> Machine:
    """A fresh deterministic shell-mode machine, run until the prompt is on COM1."""
    machine = boot_machine(catch_panic=True)
    try:
        run_to_serial(machine, PROMPT)
    except SerialNotSeen as e:
        pytest.fail(f"the shell did not start: {e}", pytrace=False)
    return machine
