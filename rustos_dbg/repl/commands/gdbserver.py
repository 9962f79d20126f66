"""``gdbserver [[HOST]:PORT]``: serve this session's machine to GDB.

Contract: the command listens (127.0.0.1:1234 by default; only 127.0.0.1
unless a host is named), serves one GDB connection on the same machine the
REPL inspects, and returns to the prompt when GDB detaches, kills or hangs
up, or on Ctrl-C while waiting. GDB's ``monitor`` runs this REPL's commands
that leave the machine where gdb has it (:mod:`rustos_dbg.repl.monitor`); the session's last
stop is then gdb's last one. The machine records its history from then on
(unless it runs in the fast mode), so gdb's reverse commands work.
"""

from __future__ import annotations

import sys

from ..registry import CommandError, command


@command("gdbserver", usage="gdbserver [[HOST]:PORT]", help="serve this machine to gdb (target remote :PORT) until it detaches", group="control")
def cmd_gdbserver(session, args):
    from ...gdb.serve import MachineServer, parse_address
    from ...gdb.target import MachineTarget
    from ..monitor import GdbMonitor

    try:
        host, port = parse_address(args or None)
    except ValueError as e:
        raise CommandError(str(e)) from None
    machine = session.machine
    if machine.counter is not None and not machine.history.enabled:
        machine.history.enable()  # gdb's reverse commands need the history
    target = MachineTarget(machine, monitor=GdbMonitor(session))
    server = MachineServer(target, host=host, port=port)
    try:
        bound_host, bound_port = server.listen()
    except OSError as e:
        raise CommandError(f"cannot listen on {host}:{port}: {e.strerror}") from None
    print(f"gdbserver: waiting for gdb on {bound_host}:{bound_port} "
          f"(gdb: target remote {bound_host}:{bound_port}; Ctrl-C gives up)", file=sys.stderr, flush=True)
    try:
        end = server.serve_one()
    except KeyboardInterrupt:
        return "gdbserver: stopped waiting"
    finally:
        server.close()
        if target.last_stop is not None:
            session.last_stop = target.last_stop
    how = getattr(end, "name", str(end)).lower().replace("_", " ")
    return f"gdbserver: gdb session ended ({how}); back in the REPL"
