"""What a text model is: one :class:`Prompt` in, one completion out (:class:`TextModel`), and the error of a
model that fails while answering. The routes (:mod:`kg.profiles.text.local_model`,
:mod:`kg.profiles.text.endpoint_model`) implement it; :func:`kg.profiles.text.models.text_model_from` picks one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from kg.foundation.errors import KGError

__all__ = ["SEED", "Prompt", "TextModel", "TextModelError"]

#: the sampling seed every route sends (decoding is greedy; the seed only pins servers that sample anyway)
SEED = 42


@dataclass(frozen=True)
class Prompt:
    """One request to a model: a system message, a user message and the most tokens to write."""

    system: str
    user: str
    max_tokens: int = 120


@runtime_checkable
class TextModel(Protocol):
    """A model that completes a :class:`Prompt`; ``route`` is ``local`` or ``endpoint``."""

    name: str  # e.g. "SmolLM2-135M-Instruct.Q4_1 (local)" or "llama3.1:8b @ http://host:11434/v1"
    route: str

    def complete(self, prompt: Prompt) -> str:
        """The model's answer to ``prompt`` (stripped; may be empty)."""
        ...


class TextModelError(KGError, RuntimeError):
    """A text model failed while answering: the endpoint is unreachable, timed out or answered an error, or
    the local model could not run the prompt."""
