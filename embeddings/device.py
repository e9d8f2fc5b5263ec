"""Pick the torch device for training (``auto`` = CUDA when available, else CPU) and its CPU threads.

>>> resolve_device("cpu")
device(type='cpu')
>>> resolve_threads(3)
3
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from collections.abc import Iterator
from pathlib import Path

import torch

from kg.foundation.errors import ConfigError

__all__ = ["DEVICES", "MAX_AUTO_THREADS", "available_cpus", "resolve_device", "resolve_threads", "torch_threads"]

logger = logging.getLogger(__name__)

#: accepted values of ``--device``
DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")


def resolve_device(name: str | None = "auto") -> torch.device:
    """The torch device for ``name`` (``auto``, ``cpu``, ``cuda`` or ``cuda:N``).

    ``auto`` (or None) is CUDA when ``torch.cuda.is_available()``, else CPU. Asking for
    CUDA on a machine without it raises :class:`~kg.foundation.errors.ConfigError`.
    """
    value = (name or "auto").strip().lower()
    if value == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    elif value == "cpu":
        device = torch.device("cpu")
    elif value == "cuda" or value.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ConfigError(
                f"--device {value} requested but CUDA is not available (torch {torch.__version__})",
                hint="use --device auto or --device cpu",
            )
        device = torch.device(value)
    else:
        raise ConfigError(f"unknown device {name!r}; choose one of: {', '.join(DEVICES)}")
    logger.info("training device: %s", device)
    return device


#: ``train_threads`` auto never goes above this (PyKEEN's small per-batch ops stop scaling earlier)
MAX_AUTO_THREADS = 4


def _cgroup_cpus(path: Path = Path("/sys/fs/cgroup/cpu.max")) -> int | None:
    """CPUs the cgroup v2 quota allows (``quota period``), or None when unlimited or unknown."""
    try:
        quota, period = path.read_text().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    return max(1, math.ceil(int(quota) / int(period)))


def available_cpus() -> int:
    """CPUs this process may run on: its affinity mask, bounded by a cgroup CPU quota."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cpus = os.cpu_count() or 1
    quota = _cgroup_cpus()
    return max(1, min(cpus, quota) if quota else cpus)


def resolve_threads(requested: int = 0) -> int:
    """Torch intra-op threads for training: ``requested``, or (0 = auto) the CPUs available to this
    process minus those the rest of the machine keeps busy (1-minute load average), at least 1 and
    at most :data:`MAX_AUTO_THREADS`. More threads than free cores makes every barrier wait for a
    descheduled thread (measured: 10x slower epochs on a busy 2-core machine)."""
    if requested and requested > 0:
        return int(requested)
    cpus = available_cpus()
    try:
        busy = os.getloadavg()[0]
    except OSError:
        busy = 0.0
    free = int(cpus - busy + 0.5)
    threads = max(1, min(MAX_AUTO_THREADS, cpus, free))
    logger.debug("train threads: %d (cpus %d, load %.2f)", threads, cpus, busy)
    return threads


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[int]:
    """Run the block with torch on ``n`` intra-op threads; the previous count is restored afterwards."""
    before = torch.get_num_threads()
    if n != before:
        torch.set_num_threads(int(n))
    try:
        yield n
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
