"""The ``endpoint`` text route: a client of any OpenAI-compatible chat-completions API.

Ollama (``http://host:11434/v1``), llama.cpp's server, vLLM and the hosted APIs all answer
``POST {base}/chat/completions``; this client sends that one request with httpx (the ``text`` extra):
greedy decoding (temperature 0, a fixed seed), a timeout, and the API key as a bearer token when one is set.
Every failure is one line with a hint: connection refused, timeout, a refused key, an unknown URL or model,
an answer that is not a chat completion. Neither the key nor the prompt nor the answer is logged.

>>> endpoint_model("http://localhost:11434/v1", "llama3.1:8b").name
'llama3.1:8b @ http://localhost:11434/v1'
"""

from __future__ import annotations

import logging
import time
from typing import Any

from kg.foundation.errors import ConfigError, shorten
from kg.foundation.extras import MissingExtraError
from kg.profiles.text.completion import SEED, Prompt, TextModelError

__all__ = ["TIMEOUT", "EndpointModel", "endpoint_model"]

logger = logging.getLogger(__name__)

#: seconds to wait for one answer (connecting: at most 10)
TIMEOUT = 120.0
_URL_HINT = "set KG_TEXT_ENDPOINT_URL to the API's base URL, e.g. http://localhost:11434/v1"


def _public(url: Any) -> str:
    """``url`` without credentials (user:password@), as names and messages show it."""
    return str(url.copy_with(username=None, password=None)).rstrip("/") if url.userinfo else str(url).rstrip("/")


class EndpointModel:
    """A model served behind an OpenAI-compatible API. Build it with :func:`endpoint_model`."""

    route = "endpoint"

    def __init__(
        self, url: str, model: str, *, api_key: str | None = None, key_env: str = "KG_TEXT_API_KEY", timeout: float
    ) -> None:
        import httpx

        self.url = _public(httpx.URL(url))
        self.model = model
        self.name = f"{model} @ {self.url}"
        self._key_env = key_env
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            base_url=str(httpx.URL(url)).rstrip("/") + "/",
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: the URL says where the model is
        )

    def complete(self, prompt: Prompt) -> str:
        """The endpoint's answer to ``prompt``, at most ``prompt.max_tokens`` tokens."""
        import httpx

        messages = [{"role": "system", "content": prompt.system}] if prompt.system else []
        messages.append({"role": "user", "content": prompt.user})
        body = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max(1, prompt.max_tokens),
            "temperature": 0,
            "seed": SEED,
            "stream": False,
        }
        started = time.perf_counter()
        try:
            response = self._client.post("chat/completions", json=body)
        except httpx.TimeoutException as e:
            raise TextModelError(
                f"the text endpoint {self.url} did not answer within {self._client.timeout.read:g} s",
                hint="check the server's load, or use a smaller model",
            ) from e
        except httpx.TransportError as e:
            raise TextModelError(
                f"cannot reach the text endpoint {self.url}: {shorten(str(e) or type(e).__name__, 120)}",
                hint=f"start the server, or {_URL_HINT}",
            ) from e
        logger.debug("%s answered %d in %.2f s", self.name, response.status_code, time.perf_counter() - started)
        if response.status_code != 200:
            raise self._refusal(response)
        return _content(response, self.url)

    def _refusal(self, response: Any) -> Exception:
        """The one-line error for a non-200 answer."""
        status = response.status_code
        detail = _detail(response)
        if status in (401, 403):
            return ConfigError(
                f"the text endpoint {self.url} refused the API key ({status}{detail})",
                hint=f"put the key in ${self._key_env} (KG_TEXT_ENDPOINT_KEY_ENV names the variable)",
            )
        if status == 404:
            return ConfigError(
                f"the text endpoint {self.url} has no chat completions or no model {self.model!r} (404{detail})",
                hint=f"{_URL_HINT}; KG_TEXT_ENDPOINT_MODEL must be a model it serves",
            )
        return TextModelError(f"the text endpoint {self.url} answered {status}{detail}")

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()


def _detail(response: Any) -> str:
    """``: <the server's error message>``, shortened, or ``""``."""
    try:
        error = response.json().get("error")
        text = error.get("message") if isinstance(error, dict) else error
    except (ValueError, AttributeError):
        text = response.text
    text = " ".join(str(text or "").split())
    return f": {shorten(text, 160)}" if text else ""


def _content(response: Any, url: str) -> str:
    """The first choice's message text of a chat-completion answer."""
    try:
        answer = response.json()
        content = answer["choices"][0]["message"].get("content")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as e:
        raise TextModelError(
            f"the text endpoint {url} did not answer with a chat completion",
            hint="KG_TEXT_ENDPOINT_URL must be an OpenAI-compatible API (its base, ending in /v1 for most servers)",
        ) from e
    return str(content or "").strip()


def endpoint_model(
    url: str | None,
    model: str | None,
    *,
    api_key: str | None = None,
    key_env: str = "KG_TEXT_API_KEY",
    timeout: float = TIMEOUT,
) -> EndpointModel:
    """A client of the chat-completions API at ``url`` (its base, e.g. ``http://localhost:11434/v1``) for
    ``model``. Raises :class:`~kg.foundation.errors.ConfigError` for a missing or unusable URL or model name
    and :class:`~kg.foundation.extras.MissingExtraError` without httpx (the ``text`` extra)."""
    try:
        import httpx
    except ModuleNotFoundError as e:
        raise MissingExtraError("httpx", "text") from e
    if not url:
        raise ConfigError("the endpoint text route needs KG_TEXT_ENDPOINT_URL", hint=_URL_HINT)
    if not model:
        raise ConfigError(
            "the endpoint text route needs KG_TEXT_ENDPOINT_MODEL", hint="set it to a model the endpoint serves"
        )
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as e:
        raise ConfigError(f"KG_TEXT_ENDPOINT_URL is not a URL: {shorten(str(e), 80)}", hint=_URL_HINT) from e
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigError(f"KG_TEXT_ENDPOINT_URL {_public(parsed)!r} is not an http(s) URL", hint=_URL_HINT)
    if timeout <= 0:
        raise ConfigError(f"the text endpoint timeout must be positive, not {timeout}")
    return EndpointModel(str(parsed), model, api_key=api_key, key_env=key_env, timeout=timeout)
