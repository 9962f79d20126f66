"""The command registry: commands register through a decorator that carries
their name, aliases, usage and help, which feed ``help`` and completion.

Contract: a command is ``func(session, args: str) -> str | None`` returning
the text to show (views return strings; only the REPL prints). Errors are
raised as :class:`CommandError` with a one-line message.
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


class Registry:
    """Commands by name and alias."""

    def __init__(self) -> None:
        """An empty registry."""
        self._commands: dict[str, Command] = {}
        self._names: dict[str, Command] = {}

    def command(self, name: str, *, aliases: tuple[str, ...] = (), usage: str = "", help: str, group: str = "general"):
        """Decorator: registers ``func`` as command ``name``."""
        def register(func: Callable) -> Callable:
            cmd = Command(name, tuple(aliases), usage or name, help, func, group)
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


#: The registry of the REPL's commands.
REGISTRY = Registry()
command = REGISTRY.command
