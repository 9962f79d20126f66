"""The rustos-dbg REPL: commands over a Machine, interactive or batch.

``Session(machine).execute("idt 14")`` returns text; :mod:`.app` runs the
prompt_toolkit loop; :mod:`.completion` is the pure completion function.
"""

from .registry import REGISTRY, Command, CommandError, command
from .session import Session

__all__ = ["Session", "CommandError", "Command", "REGISTRY", "command"]
