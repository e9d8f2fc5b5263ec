"""CPU threads for the numeric libraries profiles uses (scikit-learn, BLAS, implicit), without torch.

More threads than free cores makes every OpenMP barrier wait for a descheduled thread: on a busy
2-core machine k-means over k = 2..10 took 6.4 s with the default threads and 1.7 s with one.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

__all__ = ["free_cpus", "limited_threads", "MAX_THREADS"]

MAX_THREADS = 4


def free_cpus() -> int:
    """CPUs this process may use minus those the rest of the machine keeps busy (1-minute load
    average), between 1 and :data:`MAX_THREADS`."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except OSError:
        busy = 0.0
    return max(1, min(MAX_THREADS, cpus, int(cpus - busy + 0.5)))


@contextlib.contextmanager
def limited_threads(n: int | None = None) -> Iterator[int]:
    """Run the block with OpenMP/BLAS pools capped at ``n`` threads (default :func:`free_cpus`)."""
    from threadpoolctl import threadpool_limits

    n = n or free_cpus()
    with threadpool_limits(n):
        yield n
