"""The training process's C heap: keep what a step frees for the next step.

glibc's malloc gives the top of its heap back to the system once more than a threshold is
free there (the threshold follows the largest block freed so far), and serves large blocks
with mmap, unmapped again on free. A training step frees and takes again the same blocks every
iteration (gradients, activations, the optimizer's temporaries), so each page given back is
faulted in and zeroed again on the next step: on the CPU, CycleGAN at 32 px (ngf 8) took 2,000
to 16,000 minor page faults per iteration, depending on the order of frees. Fixing both
thresholds once stops that: blocks under 32 MiB come from the heap and its top is never given
back, so the process keeps the peak heap that every step reaches anyway.
"""

from __future__ import annotations

import ctypes

# mallopt's parameters (glibc's malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 32 << 20  # glibc's largest: half its 64 MiB arena heaps (64-bit)
_NEVER_TRIM = 2**31 - 1  # (mallopt takes an int)


def keep_freed_memory() -> bool:
    """Make glibc keep freed memory for reuse, for the whole process; True if it took, False
    where the C library is not glibc (nothing changes there)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the process runs on
    except (OSError, TypeError, AttributeError):  # (musl, macOS, Windows: no mallopt)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
                and mallopt(_M_TRIM_THRESHOLD, _NEVER_TRIM))
