"""The ``rustos-dbg`` command line.

``rustos-dbg run [ELF] [--append CMDLINE] [--headless] [--timeout S] [--fast]``
boots RustOS in the emulator. In a terminal it shows the VGA screen live,
forwards keys to the PS/2 keyboard (Ctrl-] quits) and shows serial output
below the screen; headless (or without a terminal), serial goes to stdout and
standard input goes to COM1, as with QEMU's ``-serial stdio``.

Exit status: 0 when the kernel exits with 0x10 (QEMU status 33), 1 with 0x11,
2 for bad input (one line on stderr, never a traceback), 3 for a triple fault
(the fault chain on stderr), 4 when the CPU halts for good, 124 on --timeout.
Without ELF, the project's kernel (build/rustos.elf) is used, built if missing.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from .machine import Machine, StopKind
from .machine.errors import RustosDbgError
from .bootoptions import boot_files, print_boot_notes
from .repl.registry import CommandError

EXIT_BAD_INPUT, EXIT_TRIPLE, EXIT_HALTED, EXIT_TIMEOUT = 2, 3, 4, 124


RUN_DESCRIPTION = (
    "Boot RustOS in the emulator. In a terminal the VGA screen is shown live and keys go to the "
    "PS/2 keyboard (Ctrl-] quits), with serial output below the screen; headless or piped, serial "
    "goes to stdout and standard input to COM1, as with QEMU's -serial stdio. Exit status: 0 when the "
    "kernel exits with 0x10, 1 with 0x11, 2 for bad input, 3 for a triple fault, 4 when the CPU halts "
    "for good, 124 on --timeout, 130 on Ctrl-C."
)


class UsageError(RustosDbgError):
    """A bad command line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not usage + error
        raise UsageError(f"{message} (see {self.prog} --help)")


def default_kernel() -> Path:
    """The project's kernel, built with scripts/build-kernel when missing."""
    from .kernelfile import ensure_kernel

    return ensure_kernel(lambda: print("rustos-dbg: building the kernel ...", file=sys.stderr))


def parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    top = _Parser(prog="rustos-dbg", description="Run and debug RustOS on an emulated PC.")
    sub = top.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser("run", help="boot RustOS", description=RUN_DESCRIPTION)
    run.add_argument("elf", nargs="?", help="kernel ELF (default: build/rustos.elf)")
    run.add_argument("--append", default="", metavar="CMDLINE", help="kernel command line (e.g. 'test')")
    run.add_argument("--headless", action="store_true", help="no screen: serial on stdout, stdin to COM1")
    run.add_argument("--timeout", type=float, metavar="S", help="stop after S seconds (exit 124)")
    run.add_argument("--fast", action="store_true", help="faster, NOT deterministic: host-clock time, no instruction count")
    run.add_argument("--ram", type=int, default=128, metavar="MIB", help="RAM size in MiB (default 128)")
    run.add_argument("--disk", metavar="FILE", help="disk image of the ATA master (default: disk.img beside "
                     "the kernel ELF when it exists; 'none': no disk)")
    run.add_argument("--module", action="append", default=[], metavar="FILE[,STRING]",
                     help="a boot module for a Multiboot2 or Limine kernel, with its string (Multiboot2: "
                          "default the file name; Limine: its command line); repeatable")
    run.add_argument("--initrd", metavar="FILE", help="ramdisk handed over as the PVH module, like QEMU's -initrd "
                     "(default: initrd.tar beside the kernel ELF when it exists; 'none': no ramdisk)")
    run.add_argument("--screenshot", metavar="FILE", help="write a PNG of the screen to FILE when the run ends, "
                     "whatever ends it (the framebuffer at its resolution while it is on, else the VGA text screen)")
    run.add_argument("--record", metavar="FILE", help="write every input with its virtual time to FILE (JSON) at the end")
    run.add_argument("--replay", metavar="FILE", help="deliver the inputs recorded in FILE at their virtual times (stdin ignored)")
    run.add_argument("--gdb", nargs="?", const="127.0.0.1:1234", metavar="[HOST:]PORT",
                     help="serve GDB's remote protocol (default 127.0.0.1:1234); serial on stdout, stdin to COM1")
    run.add_argument("-S", dest="freeze", action="store_true", help="with --gdb: wait at the kernel entry for gdb")
    run.add_argument("--profile", metavar="FILE", help="write an instruction-count profile per call stack to FILE "
                     "at the end (flamegraph's folded format; deterministic mode)")
    run.add_argument("--profile-interval", type=int, default=None, metavar="N",
                     help="with --profile: sample the call stack every N instructions (default 50000)")
    run.add_argument("--coverage", metavar="FILE", help="write the kernel source lines executed to FILE at the end "
                     "(lcov tracefile; deterministic mode)")
    debug = sub.add_parser("debug", help="boot RustOS stopped at its entry and debug it in a REPL",
                           description="Boot a kernel (RustOS by default) stopped at its entry (RustOS: "
                                       "pvh_start32, in 32-bit protected mode) and inspect it. "
                                       "With -ex/-x the commands run in order and the program exits.")
    debug.add_argument("elf", nargs="?", help="kernel ELF (default: build/rustos.elf)")
    debug.add_argument("--append", default="", metavar="CMDLINE", help="kernel command line")
    debug.add_argument("-ex", dest="ex", action="append", default=[], metavar="CMD", help="run CMD (repeatable), then exit")
    debug.add_argument("-x", dest="scripts", action="append", default=[], metavar="FILE", help="run the commands in FILE, then exit")
    debug.add_argument("--json", action="store_true", help="inspector output as JSON")
    debug.add_argument("--bundle", metavar="FILE", help="reopen a failure bundle (written by the pytest plugin) "
                       "at its failure: its run replayed, with its history (ELF: the bundle's kernel elsewhere)")
    debug.add_argument("--fast", action="store_true", help="faster, NOT deterministic, no history (no time travel)")
    debug.add_argument("--ram", type=int, default=128, metavar="MIB", help="RAM size in MiB (default 128)")
    debug.add_argument("--disk", metavar="FILE", help="disk image of the ATA master (default: disk.img beside "
                       "the kernel ELF when it exists; 'none': no disk)")
    debug.add_argument("--module", action="append", default=[], metavar="FILE[,STRING]",
                       help="a boot module for a Multiboot2 or Limine kernel, with its string (Multiboot2: "
                            "default the file name; Limine: its command line); repeatable")
    debug.add_argument("--initrd", metavar="FILE", help="ramdisk handed over as the PVH module, like QEMU's -initrd "
                       "(default: initrd.tar beside the kernel ELF when it exists; 'none': no ramdisk)")
    return top


def cmd_debug(args) -> int:
    """``rustos-dbg debug``: batch (-ex/-x) or interactive."""
    from .repl.app import read_script, run_batch, run_interactive
    from .repl.session import Session

    if args.bundle:
        machine = _reopen_bundle(args)
    else:
        elf = Path(args.elf) if args.elf else default_kernel()
        machine = Machine.boot(elf, cmdline=args.append, ram_mb=args.ram,
                               mode="fast" if args.fast else "deterministic",
                               history=not args.fast,  # time travel: the deterministic mode records its history
                               **boot_files(elf, args))
        print_boot_notes(machine)
    session = Session(machine, json=args.json)
    lines: list[str] = list(args.ex)
    for script in args.scripts:
        lines.extend(read_script(script))
    if lines:
        return run_batch(session, lines)
    if not sys.stdin.isatty():
        return run_batch(session, sys.stdin.read().splitlines())
    return run_interactive(session)


def _reopen_bundle(args) -> Machine:
    """``debug --bundle FILE [ELF]``: the bundle's run replayed to its end; says where on stdout."""
    from .analysis.bundle import reopen

    if args.fast or args.append or args.disk is not None or args.initrd is not None:
        raise UsageError("--bundle replays the bundle's own run: no --fast, --append, --disk or --initrd")
    reopened = reopen(args.bundle, elf=args.elf)
    print(reopened.summary(), flush=True)
    return reopened.machine


def _exit_status(stop) -> int:
    if stop.kind is StopKind.KERNEL_EXIT:
        return {33: 0, 35: 1}.get(stop.exit_code, stop.exit_code & 0xFF)
    if stop.kind is StopKind.TRIPLE_FAULT:
        return EXIT_TRIPLE
    if stop.kind is StopKind.TIME_LIMIT:
        return EXIT_TIMEOUT
    return EXIT_HALTED


class Console:
    """Serial output on stdout and the CLI's messages on stderr, each message
    starting on a line of its own: when both streams reach the same file (a
    terminal, or ``>log 2>&1``) and the serial output stopped mid-line (at the
    shell's prompt), a message first ends that line."""

    def __init__(self) -> None:
        """Nothing written yet: at the start of a line."""
        self.at_line_start = True

    def serial(self, byte: int) -> None:
        """Writes one byte the guest sent on COM1 to stdout."""
        sys.stdout.buffer.write(bytes((byte,)))
        if byte == 0x0A:
            sys.stdout.flush()
        self.at_line_start = byte in (0x0A, 0x0D)

    def message(self, text: str) -> None:
        """Prints ``rustos-dbg: text`` on stderr, on a line of its own."""
        try:
            sys.stdout.flush()
        except (OSError, ValueError):
            pass
        lead = "" if self.at_line_start or not _same_file(sys.stdout, sys.stderr) else "\n"
        print(f"{lead}rustos-dbg: {text}", file=sys.stderr, flush=True)
        self.at_line_start = True


def _same_file(a, b) -> bool:
    try:
        return os.path.samestat(os.fstat(a.fileno()), os.fstat(b.fileno()))
    except (AttributeError, OSError, ValueError):
        return False


def _report(stop, machine, console: Console) -> None:
    if stop.kind is StopKind.KERNEL_EXIT:
        return
    from .inspect.hw.faults import format_deliveries

    console.message(f"{stop.describe()} ({machine.symbolize(stop.rip)})")
    if stop.chain:
        print(format_deliveries(stop.chain, machine.exception_log, machine.symbolize), file=sys.stderr)


def run_headless(machine: Machine, timeout: float | None, console: Console, run=None) -> int:
    """Runs with serial on stdout and stdin to COM1 until the machine stops for good
    (stdin is ignored while recorded inputs are replayed); ``run`` as in :func:`run_terminal`."""
    import time

    from .inputpump import InputPump
    from .terminal import foreground_tty

    pump = None
    readable = sys.stdin is not None and (not sys.stdin.isatty() or foreground_tty(sys.stdin) is not None)
    if readable and not machine.scheduled_inputs:
        pump = InputPump(sys.stdin)
    deadline = None if timeout is None else time.monotonic() + timeout
    # Ctrl-C stops the guest between slices (a KeyboardInterrupt raised inside a
    # Unicorn hook could be swallowed); the loop then ends with status 130.
    previous = signal.signal(signal.SIGINT, lambda *_: machine.interrupt())
    try:
        return _headless_loop(machine, pump, deadline, timeout, console, run or machine.run)
    finally:
        signal.signal(signal.SIGINT, previous)


def _headless_loop(machine: Machine, pump, deadline, timeout, console: Console, run) -> int:
    import time

    while True:
        if pump is not None:
            pump.drain(machine)
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            console.message(f"timeout after {timeout} s at {machine.symbolize(machine.reg('rip'))}")
            return EXIT_TIMEOUT
        stop = run(timeout=0.05 if left is None else min(0.05, left))
        if stop.kind in (StopKind.TIME_LIMIT, StopKind.INSTRUCTION_LIMIT):
            continue
        if stop.kind is StopKind.INTERRUPTED:
            console.message(f"interrupted at {machine.symbolize(stop.rip)}")
            return 130
        _report(stop, machine, console)
        return _exit_status(stop)


def run_terminal(machine: Machine, timeout: float | None, serial_buffer: list, console: Console, run=None) -> int:
    """Runs with the live VGA screen and keyboard in this terminal. When the
    machine stops (or on --timeout) its last screen stays, the reason below it.
    ``run`` runs one slice (default ``machine.run``; a profiler's run samples)."""
    run = run or machine.run
    import time

    from .devices.display import screen_ansi
    from .keys import translate
    from .terminal import TerminalView

    view = TerminalView()
    start = time.monotonic()
    try:
        while True:
            for event in translate(view.read_keys(0)):
                if event.quit:
                    return 0
                if event.text:
                    machine.send_keys(event.text)
                if event.chord:
                    machine.press(event.chord)
            if serial_buffer:
                data, serial_buffer[:] = bytes(serial_buffer), []
                view.serial(data)
            stop = run(timeout=0.02)
            view.draw(screen_ansi(machine.devices),
                      f" RustOS in rustos-dbg ({machine.mode}) | {machine.screen_mode()} | Ctrl-] quits | "
                      f"{machine.icount} instructions")
            elapsed = time.monotonic() - start
            if timeout is not None and elapsed > timeout:
                view.close(keep_screen=True)
                console.message(f"timeout after {timeout} s at {machine.symbolize(machine.reg('rip'))}")
                return EXIT_TIMEOUT
            ahead = machine.now_ns() / 1e9 - elapsed  # keep guest time at most real time
            if ahead > 0:
                time.sleep(min(ahead, 0.02))
            if stop.kind not in (StopKind.TIME_LIMIT, StopKind.INSTRUCTION_LIMIT):
                view.close(keep_screen=True)
                _report(stop, machine, console)
                return _exit_status(stop)
    finally:
        try:
            view.close()
        except Exception:
            pass


def cmd_run(args) -> int:
    """``rustos-dbg run``."""
    if args.gdb is not None and args.elf is None and Path(args.gdb).is_file():
        args.elf, args.gdb = args.gdb, "127.0.0.1:1234"  # `--gdb ELF`: the bare option, then the kernel
    elf = Path(args.elf) if args.elf else default_kernel()
    interactive = not args.headless and sys.stdin.isatty() and sys.stdout.isatty()
    serial_buffer: list = []
    console = Console()

    def on_serial(byte: int) -> None:
        if interactive:
            serial_buffer.append(byte)
        else:
            console.serial(byte)

    if args.freeze and args.gdb is None:
        raise UsageError("-S needs --gdb")
    if args.screenshot and not Path(args.screenshot).parent.is_dir():
        raise UsageError(f"--screenshot: no directory '{Path(args.screenshot).parent}'")
    interactive = interactive and args.gdb is None
    machine = Machine.boot(elf, cmdline=args.append, ram_mb=args.ram,
                           mode="fast" if args.fast else "deterministic", on_serial=on_serial,
                           **boot_files(elf, args))
    print_boot_notes(machine)
    if args.replay:
        if args.fast:
            raise UsageError("--replay needs the deterministic mode (drop --fast)")
        from .recording import load_recording_file

        load_recording_file(machine, args.replay)
        interactive = False
    from .analysis.outputs import Analyses

    analyses = Analyses.start(machine, args)
    try:
        return _run_cmd_body(args, machine, interactive, serial_buffer, console, analyses.run)
    finally:
        if args.record:
            from .recording import save_recording_file

            save_recording_file(machine, args.record)
        if args.screenshot:
            _screenshot(machine, args.screenshot, console)
        analyses.write()


def _screenshot(machine: Machine, path: str, console: Console) -> None:
    """Writes ``--screenshot``'s PNG (a failure is one message, the run's status stays)."""
    from .devices.vgatext import FontUnavailable

    try:
        machine.screenshot(path)
    except OSError as e:
        console.message(f"cannot write the screenshot '{path}': {e.strerror}")
    except FontUnavailable as e:
        console.message(f"cannot draw the screenshot: {e}")


def _run_cmd_body(args, machine: Machine, interactive: bool, serial_buffer: list, console: Console, run) -> int:
    from .terminal import serial_console

    if interactive:
        return run_terminal(machine, args.timeout, serial_buffer, console, run)
    # A terminal on stdin is a serial line here: keys go on at once, echoed by the guest only.
    with serial_console(None if machine.scheduled_inputs else sys.stdin):
        if args.gdb is not None:
            from .gdb import serve_gdb
            from .repl.monitor import GdbMonitor
            from .repl.session import Session

            stop = serve_gdb(machine, args.gdb, freeze=args.freeze, timeout=args.timeout,
                             monitor=GdbMonitor(Session(machine)))
            sys.stdout.flush()
            return 0 if stop is None else _exit_status(stop)
        return run_headless(machine, args.timeout, console, run)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``rustos-dbg`` console script."""
    try:
        args = parser().parse_args(argv)
        if args.command == "run":
            return cmd_run(args)
        if args.command == "debug":
            return cmd_debug(args)
        raise UsageError(f"unknown command '{args.command}'")
    except (RustosDbgError, CommandError) as e:
        print(f"rustos-dbg: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("rustos-dbg: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
