"""The command registry: commands register through a decorator that carries
their name, aliases, usage and help, which feed ``help`` and completion.

Contract: a command is ``func(session, args: str) -> str | None`` returning
the text to show (views return strings; only the REPL prints). Errors are
raised as :class:`CommandError` with a one-line message.

Each command says whether it *moves* the machine (executes guest code:
``stepi``, ``continue``, ``gdbserver`` hands it to gdb...). Commands of the
``control`` group move it unless registered with ``moves=False``, so a new
run-control command is taken as moving until it says otherwise; gdb's
``monitor`` refuses moving commands (:mod:`.monitor`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


class CommandError(Exception):
    """A user or guest error with a one-line message; the REPL goes on."""


@dataclass(frozen=True)
class Command:
    """A registered command."""

    name: str
    aliases: tuple[str, ...]
    usage: str
    help: str
    func: Callable
    group: str
    #: It executes guest code (or hands the machine over): refused under gdb.
    moves: bool = False


class Registry:
    """Commands by name and alias."""

    def __init__(self) -> None:
        """An empty registry."""
        self._commands: dict[str, Command] = {}
        self._names: dict[str, Command] = {}

    def command(self, name: str, *, aliases: tuple[str, ...] = (), usage: str = "", help: str, group: str = "general",
                moves: bool | None = None):
        """Decorator: registers ``func`` as command ``name``; ``moves`` defaults to
        ``group == "control"`` (see the module)."""
        def register(func: Callable) -> Callable:
            cmd = Command(name, tuple(aliases), usage or name, help, func, group,
                          group == "control" if moves is None else moves)
            for key in (name, *aliases):
                if key in self._names:
                    raise ValueError(f"command name '{key}' registered twice")
                self._names[key] = cmd
            self._commands[name] = cmd
            return func
        return register

    def find(self, word: str) -> Command | None:
        """The command called ``word`` (name or alias)."""
        return self._names.get(word)

    def commands(self) -> list[Command]:
        """Every command, by name."""
        return sorted(self._commands.values(), key=lambda c: c.name)

    def words(self) -> list[str]:
        """Every name and alias, sorted (for completion)."""
        return sorted(self._names)


def split_command(line: str) -> tuple[str, str]:
    """``(word, args)`` of a command line; gdb's ``x/8gx ADDR`` gives ``("x", "/8gx ADDR")``."""
    word, _, args = line.strip().partition(" ")
    if "/" in word[1:]:
        word, slash, fmt = word.partition("/")
        args = f"{slash}{fmt} {args}"
    return word, args.strip()


#: The registry of the REPL's commands.
REGISTRY = Registry()
command = REGISTRY.command
