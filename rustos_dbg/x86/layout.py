"""RustOS's virtual address-space layout (docs/boot.md, docs/kernel-structures.md).

Contract: the constants the machine, the inspectors and GDB support share;
declared once. Not x86 architecture but the kernel's choice on it.
"""

from __future__ import annotations

KERNEL_BASE = 0xFFFF_FFFF_8000_0000   #: higher-half base of the kernel image (physical 0)
PHYS_OFFSET = 0xFFFF_8000_0000_0000   #: start of the window that maps all physical memory
HEAP_START = 0x4444_4444_0000         #: first heap address
HEAP_MAX = 32 << 20                   #: largest heap size
PAGE_SIZE = 4096
GUARD_SIZE = 4096                     #: guard page at the bottom of each GuardedStack
IMAGE_WINDOW = 1 << 30                #: the kernel image lies within 1 GiB above KERNEL_BASE
THREAD_STACKS = 0xFFFF_FF00_0000_0000  #: the threads' kernel stacks, one THREAD_STACK_SLOT each (kernel/src/layout.rs)
THREAD_STACK_SLOT = 0x10_0000
FRAMEBUFFER = 0xFFFF_FE80_0000_0000   #: the linear framebuffer, once the kernel's fb is on (kernel/src/layout.rs)
FRAMEBUFFER_MAX = 16 << 20            #: the most of it that can be mapped (BAR0 of the standard VGA)
