"""The kinds of memory access (shared by the page walker and the machine's CPU path)."""

import enum


class Access(enum.IntEnum):
    """Kind of memory access whose outcome is asked for."""

    READ = 0
    WRITE = 1
    EXECUTE = 2
