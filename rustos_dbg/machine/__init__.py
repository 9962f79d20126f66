"""The emulated PC: :class:`Machine`, its stops and its errors."""

from .errors import GuestMemoryError, KernelImageError, RustosDbgError, SymbolError
from .image import KernelImage, load_image
from .machine import Machine
from .stops import Stop, StopKind

__all__ = ["Machine", "Stop", "StopKind", "KernelImage", "load_image",
           "RustosDbgError", "KernelImageError", "GuestMemoryError", "SymbolError"]
