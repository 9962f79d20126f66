"""Inspectors: raw guest bytes -> model (frozen dataclasses) -> view (text or JSON).

Every inspector takes a :class:`~.reader.GuestReader` (memory and registers
of a stopped guest), never Unicorn; models are frozen dataclasses; views are
functions returning strings. Only the REPL prints.
"""
