"""``rustos-dbg run --profile FILE --coverage FILE``: the analyses of one run and their files.

Contract: :meth:`Analyses.start` checks the options (one-line
:class:`~rustos_dbg.machine.errors.RustosDbgError` for a bad combination:
either needs the deterministic mode, ``--profile`` does not go with ``--gdb``)
and starts what was asked; :attr:`Analyses.run` is what runs each slice of the
machine (the profiler's sampling run, or ``machine.run``); :meth:`Analyses.write`
writes the files at the end of the run, however it ended, and is a no-op
when nothing was asked.
"""

from __future__ import annotations

from pathlib import Path

from ..machine.errors import RustosDbgError


class Analyses:
    """The profile and coverage of one ``run``, if asked for."""

    def __init__(self, machine, profiler, profile_path, coverage, coverage_path) -> None:
        """Use :meth:`start`."""
        self.machine = machine
        self.profiler, self.profile_path = profiler, profile_path
        self.coverage, self.coverage_path = coverage, coverage_path
        #: Runs one slice of the machine (``machine.run``'s keywords).
        self.run = profiler.run if profiler is not None else machine.run

    @classmethod
    def start(cls, machine, args) -> "Analyses":
        """Starts the analyses that ``args`` (``profile``, ``profile_interval``, ``coverage``,
        ``gdb``) ask for."""
        profile_path = getattr(args, "profile", None)
        coverage_path = getattr(args, "coverage", None)
        interval = getattr(args, "profile_interval", None)
        if interval is not None and not profile_path:
            raise RustosDbgError("--profile-interval needs --profile FILE")
        if profile_path and getattr(args, "gdb", None) is not None:
            raise RustosDbgError("--profile does not go with --gdb (gdb decides when the machine runs)")
        for path in (profile_path, coverage_path):
            if path and not Path(path).resolve().parent.is_dir():
                raise RustosDbgError(f"cannot write '{path}': no such directory")
        profiler = coverage = None
        if profile_path:  # imported only when asked for: the inspectors cost start-up time
            from .profile import DEFAULT_INTERVAL, Profiler

            profiler = Profiler(machine, DEFAULT_INTERVAL if interval is None else interval)
        if coverage_path:
            from .coverage import Coverage

            coverage = Coverage(machine)
        return cls(machine, profiler, profile_path, coverage, coverage_path)

    def write(self) -> None:
        """Writes the asked files (the profile charged up to the end of the run)."""
        if self.profiler is not None:
            self.profiler.finish()
            Path(self.profile_path).write_text(self.profiler.folded())
        if self.coverage is not None:
            Path(self.coverage_path).write_text(self.coverage.lcov())
