"""One way for long library calls to tell what they are doing: a log line, and the caller's progress hook.

>>> say = step_reporter(logging.getLogger("kg.example"))
>>> seen = []
>>> say(seen.append, "exporting triples")
>>> seen
['exporting triples']
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

__all__ = ["Progress", "step_reporter"]

#: a caller's hook for step messages (the CLI shows them; None: only the log gets them)
Progress = Callable[[str], Any]


def step_reporter(logger: logging.Logger) -> Callable[[Progress | None, str], None]:
    """``say(progress, message)``: log ``message`` at INFO on ``logger`` and pass it to ``progress``."""

    def say(progress: Progress | None, message: str) -> None:
        logger.info(message)
        if progress is not None:
            progress(message)

    return say
