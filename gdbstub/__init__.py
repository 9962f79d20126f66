"""gdbstub: a GDB Remote Serial Protocol server for any target.

Contract: this package depends on the standard library only and knows
nothing about the machine it debugs.  A target is any object implementing
:class:`Target` (plus optional ``Supports*`` capabilities); :class:`GdbServer`
serves it to GDB over TCP.  Layers, bottom up:

* :mod:`gdbstub.framing`: packet framing, checksums, escapes, run-length
  encoding, acknowledgements and interrupts;
* :mod:`gdbstub.packets`, :mod:`gdbstub.execution`, :mod:`gdbstub.queries`,
  routed by :mod:`gdbstub.parse`: one parser per packet type;
* :mod:`gdbstub.stop` and :mod:`gdbstub.target`: stop reasons and the
  target protocol;
* :mod:`gdbstub.dispatch`: the I/O-free protocol state machine (its thread
  packets in :mod:`gdbstub.threads`, its replies in :mod:`gdbstub.response`);
* :mod:`gdbstub.session` and :mod:`gdbstub.server`: one connection, and
  the TCP server.

Example::

    server = GdbServer(my_target, port=1234)
    server.serve_forever()        # then, in gdb: target remote :1234
"""

from .dispatch import Dispatcher, Response, SessionEnd
from .errors import Errno, PacketError, TargetError
from .framing import Decoder, encode_packet
from .parse import parse_packet
from .server import GdbServer
from .session import Session
from .stop import (
    SIGBUS,
    SIGFPE,
    SIGILL,
    SIGINT,
    SIGKILL,
    SIGSEGV,
    SIGTRAP,
    DoneStep,
    Exited,
    HistoryStart,
    HwBreak,
    SyscallEntry,
    SyscallReturn,
    Signal,
    SignalStop,
    StopReason,
    SwBreak,
    Terminated,
    Watch,
    WatchKind,
    encode_stop_reply,
)
from .target import (
    Capabilities,
    Resume,
    ResumeAction,
    SupportsDetach,
    SupportsHwBreakpoints,
    SupportsKill,
    SupportsMonitorCommand,
    SupportsReverse,
    SupportsSingleStepFlags,
    SupportsPhysicalMemory,
    SupportsSwBreakpoints,
    SupportsThreads,
    SupportsCatchSyscalls,
    SupportsWatchpoints,
    Target,
    capabilities,
)

__all__ = [
    "GdbServer",
    "Session",
    "SessionEnd",
    "Dispatcher",
    "Response",
    "Target",
    "Resume",
    "ResumeAction",
    "Capabilities",
    "capabilities",
    "SupportsSwBreakpoints",
    "SupportsHwBreakpoints",
    "SupportsWatchpoints",
    "SupportsMonitorCommand",
    "SupportsDetach",
    "SupportsKill",
    "SupportsReverse",
    "SupportsSingleStepFlags",
    "SupportsPhysicalMemory",
    "SupportsThreads",
    "SupportsCatchSyscalls",
    "StopReason",
    "DoneStep",
    "SignalStop",
    "SwBreak",
    "HwBreak",
    "Watch",
    "WatchKind",
    "Exited",
    "Terminated",
    "HistoryStart",
    "SyscallEntry",
    "SyscallReturn",
    "Signal",
    "SIGINT",
    "SIGTRAP",
    "SIGSEGV",
    "SIGILL",
    "SIGFPE",
    "SIGBUS",
    "SIGKILL",
    "encode_stop_reply",
    "Errno",
    "PacketError",
    "TargetError",
    "Decoder",
    "encode_packet",
    "parse_packet",
]
