"""Failure bundles: a failed run, written to one file, reopened at the failure on any machine.

Contract: :func:`write_bundle` writes a JSON file with what makes a
deterministic run again: the kernel ELF (path and SHA-256), the command line,
the RAM size, the disk image and the ramdisk named (if any), a Limine or Multiboot2 kernel's modules, every input with the virtual
time it arrived at (entries of a ``run --record`` recording), the instruction count where the run ended and why (the
stop report, the test's name), and the end state's checkpoint as the
digests of each part (:meth:`MachineState.digests`). No machine state is
stored as code or pickles: the file is data. :func:`reopen` boots the same
kernel (the bundle's path, or ``elf`` given), checks its hash, schedules the
inputs at their times and runs, recording its history, to the bundle's
instruction count; the checkpoint's digests then say whether the machine is
where the failure was (:attr:`Reopened.matches`). Bad files, another kernel, a
fast-mode machine: a :class:`BundleError` with one line.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ..machine import Machine, StopKind
from ..machine.errors import RustosDbgError
from ..recording import recorded_inputs, schedule_recorded

#: The bundle format's version (``format`` in the file).
FORMAT = "rustos-dbg bundle 1"
_FINAL = (StopKind.KERNEL_EXIT, StopKind.TRIPLE_FAULT)


class BundleError(RustosDbgError):
    """A bundle cannot be written or reopened (one line)."""


@dataclass(frozen=True)
class Bundle:
    """What a bundle file holds."""

    format: str
    elf: str
    elf_sha256: str
    cmdline: str
    ram_mb: int
    disk: str | None
    inputs: list            #: as ``run --record`` writes them (:mod:`rustos_dbg.recording`)
    icount: int             #: where the run ended
    report: str             #: why (a stop report, or the test's failure)
    test: str | None        #: the test's node id, when a test wrote it
    digests: dict           #: the end state: a digest per part
    created: str
    modules: list = ()      #: the boot modules ([path, string or None], paths resolved)
    initrd: str | None = None  #: the ramdisk file (bundles written before it had none)


def sha256_of(path: str | Path) -> str:
    """The SHA-256 of a file, in hex."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_bundle(machine: Machine, path: str | Path, report: str = "", test: str | None = None) -> Path:
    """Writes ``machine``'s run so far as a bundle at ``path`` (its directory made)."""
    if machine.counter is None:
        raise BundleError("a bundle needs the deterministic mode: a fast run does not replay")
    image = machine.image
    bundle = Bundle(
        format=FORMAT, elf=str(Path(image.path).resolve()), elf_sha256=sha256_of(image.path),
        cmdline=machine.cmdline, ram_mb=machine.ram_bytes >> 20,
        disk=str(Path(machine.disk).resolve()) if machine.disk is not None else None,
        initrd=str(Path(machine.initrd).resolve()) if machine.initrd is not None else None,
        inputs=recorded_inputs(machine),
        icount=machine.icount, report=report or _where(machine), test=test,
        digests=machine.snapshot().digests(), created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        modules=[_resolved(m) for m in machine.modules])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(bundle), indent=1) + "\n")
    return path


def _resolved(module) -> list:
    path, text = (module, None) if isinstance(module, (str, Path)) else module
    return [str(Path(path).resolve()), text]


def _where(machine: Machine) -> str:
    rip = machine.reg("rip")
    return f"stopped at {rip:#x} ({machine.symbolize(rip)}) after {machine.icount} instructions"


def read_bundle(path: str | Path) -> Bundle:
    """The bundle in ``path``."""
    try:
        data = json.loads(Path(path).read_text())
    except OSError as e:
        raise BundleError(f"cannot read bundle '{path}': {e.strerror}") from None
    except ValueError:
        raise BundleError(f"'{path}' is not a rustos-dbg bundle (not JSON)") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BundleError(f"'{path}' is not a rustos-dbg bundle (expected format '{FORMAT}')")
    try:
        return Bundle(**data)
    except TypeError as e:
        raise BundleError(f"'{path}' is a damaged rustos-dbg bundle ({e})") from None


@dataclass(frozen=True)
class Reopened:
    """A bundle's run, replayed."""

    machine: Machine
    bundle: Bundle
    matches: bool           #: the end state's digests are the bundle's
    differing: tuple        #: the parts whose digests differ

    def summary(self) -> str:
        """One line: where the machine is, and whether it is the failure's state."""
        b = self.bundle
        what = f"bundle of {b.test}" if b.test else "bundle"
        check = ("the end state matches the bundle's checkpoint" if self.matches
                 else f"the end state differs from the bundle's checkpoint in: {', '.join(self.differing)}")
        return f"{what}: replayed to instruction {self.machine.icount} ({b.report}); {check}"


def reopen(path: str | Path, elf: str | Path | None = None, disk: str | Path | None = None) -> Reopened:
    """Boots the bundle's kernel (or ``elf``) and replays the run to its end."""
    bundle = read_bundle(path)
    kernel = Path(elf) if elf is not None else Path(bundle.elf)
    if not kernel.is_file():
        raise BundleError(f"the bundle's kernel '{kernel}' is not here (give the ELF: debug --bundle FILE ELF)")
    if sha256_of(kernel) != bundle.elf_sha256:
        raise BundleError(f"'{kernel}' is not the kernel the bundle ran (SHA-256 differs)")
    machine = Machine.boot(kernel, cmdline=bundle.cmdline, ram_mb=bundle.ram_mb, history=True,
                           disk=disk if disk is not None else bundle.disk, initrd=bundle.initrd,
                           modules=tuple(tuple(m) for m in bundle.modules))
    try:
        schedule_recorded(machine, bundle.inputs)
    except (ValueError, KeyError, TypeError) as e:
        raise BundleError(f"'{path}' has a damaged input list ({e})") from None
    while machine.icount < bundle.icount:
        stop = machine.run(max_instructions=bundle.icount - machine.icount)
        if stop.kind in _FINAL or machine.shutdown is not None:
            break
    digests = machine.snapshot().digests()
    differing = tuple(k for k, v in bundle.digests.items() if digests.get(k) != v)
    return Reopened(machine, bundle, not differing, differing)
