"""The C allocator's settings for training: keep freed memory for the next step.

A training step allocates and frees the same large tensors (activations,
gradients, dropout noise) thousands of times. By default glibc serves blocks
above a moving threshold with fresh ``mmap`` calls and hands the top of the heap
back to the OS once it is free, so each step faults the same pages in again.
Raising the mmap threshold to its maximum and never trimming keeps those pages
in the process: fewer page faults and a faster step (CHANGELOG.md has the
measured counts), the same numbers, and a resident size that stays at its peak
(which it reaches anyway). A no-op where the C library
has no ``mallopt`` (not glibc).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools

# glibc's malloc.h parameter numbers
M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD = 32 << 20      # glibc's largest allowed on 64-bit systems
TOP_PAD = 64 << 20


@functools.cache
def keep_freed_memory() -> bool:
    """Apply the settings once per process; True where they took effect."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    ok = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    ok &= mallopt(M_TRIM_THRESHOLD, 2**31 - 1) == 1
    ok &= mallopt(M_TOP_PAD, TOP_PAD) == 1
    return bool(ok)
