"""Helpers of the async-task tests: the kernel's sources, read to know each await's line."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "kernel" / "src"


def source_line(path: str, text: str, after: str | None = None) -> int:
    """The 1-based number of the first line of kernel/src/``path`` containing ``text``
    (after the first line containing ``after``, when given)."""
    lines = (SRC / path).read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i in range(start, len(lines)) if text in lines[i]) + 1
