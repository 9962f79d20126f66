"""The GDB side of rustos-dbg: the machine as a :mod:`gdbstub` target.

* :class:`MachineTarget` (:mod:`.target`): the target protocol over a
  :class:`~rustos_dbg.machine.Machine`, with the register file of
  :mod:`.regfile` described by :mod:`.xml` and stops mapped by :mod:`.stops`;
  ``monitor`` commands only through a callable its builder gives it (this
  package never imports the REPL);
* :func:`serve_gdb` (:mod:`.serve`): ``rustos-dbg run --gdb [-S]``.

Example::

    server = MachineServer(MachineTarget(Machine.boot("build/rustos.elf")), port=1234)
    server.serve_forever()        # then, in gdb: target remote :1234
"""

from .serve import Handoff, MachineServer, parse_address, serve_gdb
from .stops import signal_for_vector, stop_reason
from .target import MachineTarget
from .xml import REGISTERS, TARGET_XML

__all__ = ["MachineTarget", "MachineServer", "Handoff", "serve_gdb", "parse_address",
           "stop_reason", "signal_for_vector", "REGISTERS", "TARGET_XML"]
