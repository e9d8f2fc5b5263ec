"""Pick the torch device for training: ``auto`` = CUDA when available, else CPU.

>>> resolve_device("cpu")
device(type='cpu')
"""

from __future__ import annotations

import logging

import torch

from kg.errors import ConfigError

__all__ = ["DEVICES", "resolve_device"]

logger = logging.getLogger(__name__)

#: accepted values of ``--device``
DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")


def resolve_device(name: str | None = "auto") -> torch.device:
    """The torch device for ``name`` (``auto``, ``cpu``, ``cuda`` or ``cuda:N``).

    ``auto`` (or None) is CUDA when ``torch.cuda.is_available()``, else CPU. Asking for
    CUDA on a machine without it raises :class:`~kg.errors.ConfigError`.
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
