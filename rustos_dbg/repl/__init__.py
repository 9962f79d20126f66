"""The rustos-dbg REPL: commands over a Machine, interactive or batch.

``Session(machine).execute("idt 14")`` returns text; :mod:`.app` runs the
prompt_toolkit loop; :mod:`.completion` is the pure completion function.
"""

from .registry import REGISTRY, Command, CommandError, command

__all__ = ["Session", "CommandError", "Command", "REGISTRY", "command"]


def __getattr__(name: str):
    """``Session`` is imported when first asked for: it loads the kernel inspectors,
    which ``rustos-dbg run`` (importing :class:`CommandError` only) never needs."""
    if name == "Session":
        from .session import Session

        return Session
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
