"""Whole-run analyses of a deterministic machine: an instruction-count profile
(:mod:`.profile`) and source-line coverage (:mod:`.coverage`).

They sit above ``machine`` and ``inspect`` (they use both); the CLI and the
pytest plugin drive them.
"""
