"""Train a PyKEEN model on labelled triples, evaluate it honestly, save the run.

Training goes through :func:`pykeen.pipeline.pipeline` (sLCWA, Adam, basic negative sampling,
early stopping on validation MRR); evaluation is PyKEEN's filtered rank-based evaluator on the
test split (MRR, Hits@1/3/10, both sides, realistic ranks).

>>> import numpy as np
>>> from kg.embeddings import TrainConfig, train_triples
>>> triples = np.array([["User:u1", "PURCHASED", "Product:p1"], ...])  # doctest: +SKIP
>>> run = train_triples(triples, TrainConfig(model="TransE", dim=32, epochs=5), runs_dir=Path("runs"))  # doctest: +SKIP
>>> run.metrics["mrr"]  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import logging
import platform
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from kg.embeddings.config import TrainConfig
from kg.embeddings.device import resolve_device, resolve_threads, torch_threads
from kg.embeddings.runs import FAILED, INTERRUPTED, RUNNING, TRAINED, RunResult, new_run_id
from kg.embeddings.triples import TripleSet
from kg.foundation.errors import ConfigError

__all__ = [
    "train_triples",
    "split_triples",
    "make_factory",
    "versions",
    "METRIC_KEYS",
    "extract_metrics",
    "check_finite",
]

logger = logging.getLogger(__name__)

#: metrics.json top-level name -> PyKEEN metric key (filtered: PyKEEN filters by train+validation)
METRIC_KEYS: dict[str, str] = {
    "mrr": "both.realistic.inverse_harmonic_mean_rank",
    "hits_at_1": "both.realistic.hits_at_1",
    "hits_at_3": "both.realistic.hits_at_3",
    "hits_at_10": "both.realistic.hits_at_10",
    "mean_rank": "both.realistic.arithmetic_mean_rank",
}


def versions(backend: str | None = None) -> dict[str, str | None]:
    """Versions recorded with every run."""
    import pykeen
    import torch

    kg_version: str | None
    try:
        from importlib.metadata import version

        kg_version = version("kg")
    except Exception:  # not installed (running from a checkout)
        import kg

        kg_version = getattr(kg, "__version__", None)
    return {
        "kg": kg_version,
        "pykeen": pykeen.get_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "backend": backend,
    }


def make_factory(triples: np.ndarray | TripleSet) -> Any:
    """A PyKEEN TriplesFactory from a :class:`TripleSet` or an (n, 3) array of labelled triples.

    Ids follow sorted labels, so the same triples always get the same ids.
    """
    if not isinstance(triples, TripleSet):
        arr = np.asarray(triples)
        if arr.ndim != 2 or arr.shape[1] != 3:
            raise ConfigError(f"triples must be an (n, 3) array, got shape {arr.shape}")
        triples = TripleSet.from_labeled(arr)
    if triples.num_triples == 0:
        raise ConfigError("no triples to train on (empty graph?)", hint="ingest data or choose another --relation")
    return triples.to_factory()


def split_triples(factory: Any, ratios: tuple[float, float, float], seed: int) -> tuple[Any, Any, Any]:
    """Seeded train/validation/test split; every entity and relation of the test set is in training.

    PyKEEN's ``coverage`` splitter first; when the triples that cover every entity are more than
    the training share (sparse graphs: many degree-1 nodes), PyKEEN's ``cleanup`` splitter, which
    moves evaluation triples with unseen entities into training (smaller test set, same guarantee).
    """
    try:
        try:
            train, valid, test = factory.split(list(ratios), random_state=seed, method="coverage")
        except ValueError as e:
            logger.warning("coverage split impossible (%s); using PyKEEN's cleanup splitter", e)
            train, valid, test = factory.split(list(ratios), random_state=seed, method="cleanup")
    except (ValueError, RuntimeError, IndexError) as e:
        raise ConfigError(
            f"cannot split {factory.num_triples} triples into train/validation/test: {e}",
            hint="the graph is too small to train on",
        ) from e
    if test.num_triples == 0:
        raise ConfigError(
            f"cannot evaluate: the test split of {factory.num_triples} triples is empty",
            hint="the graph is too small to train on",
        )
    return train, valid, test


def cap_triples(factory: Any, limit: int, seed: int) -> Any:
    """``factory`` itself, or a seeded sample of ``limit`` of its triples in the same id space."""
    import torch

    if not limit or factory.num_triples <= limit:
        return factory
    generator = torch.Generator().manual_seed(int(seed))
    keep = torch.randperm(factory.num_triples, generator=generator)[:limit].sort().values
    return factory.clone_and_exchange_triples(mapped_triples=factory.mapped_triples[keep])


def evaluation_samples(validation: Any, testing: Any, config: TrainConfig) -> tuple[Any, Any, list[Any]]:
    """What gets ranked: seeded samples of at most ``eval_max`` test and ``eval_max // 4`` validation
    triples, plus the full splits they were drawn from as extra filter triples, so each sampled
    triple's filtered rank is exactly the one a full evaluation gives it."""
    valid_max = max(1, config.eval_max // 4) if config.eval_max else 0
    eval_validation = cap_triples(validation, valid_max, int(config.seed or 0))
    eval_testing = cap_triples(testing, config.eval_max, int(config.seed or 0) + 1)
    extra_filters = [
        full.mapped_triples
        for full, used in ((validation, eval_validation), (testing, eval_testing))
        if used is not full
    ]
    return eval_validation, eval_testing, extra_filters


def extract_metrics(metric_results: Any) -> dict[str, float]:
    """Top-level metrics (mrr, hits_at_k) from PyKEEN's metric results."""
    return {name: float(metric_results.get_metric(key)) for name, key in METRIC_KEYS.items()}


def _vectors(representation: Any) -> np.ndarray:
    import torch

    with torch.no_grad():
        x = representation(indices=None).detach().cpu()
    if x.is_complex():
        x = torch.cat([x.real, x.imag], dim=-1)
    return x.reshape(x.shape[0], -1).to(torch.float32).numpy()


def check_finite(vectors: np.ndarray | None, labels: dict[str, int], *, what: str, run_id: str) -> None:
    """ConfigError naming the first entity whose vector holds NaN or inf (training diverged)."""
    if vectors is None:
        return
    bad = np.flatnonzero(~np.isfinite(vectors).all(axis=1))
    if not len(bad):
        return
    names = {i: label for label, i in labels.items()}
    raise ConfigError(
        f"run {run_id}: {len(bad)} of {len(vectors)} {what} vectors hold NaN or inf "
        f"(first: {names.get(int(bad[0]), int(bad[0]))!r}); training diverged",
        hint="lower --lr, or use another --model or a smaller --dim",
    )


@contextlib.contextmanager
def _run_guard(run: RunResult) -> Iterator[None]:
    """Mark the run failed (or interrupted, on Ctrl-C / SIGTERM) with a one-line error when training raises."""
    try:
        yield
    except BaseException as e:
        status = FAILED if isinstance(e, Exception) else INTERRUPTED
        try:
            run.mark(status, error=e, finished=True)
        except OSError:  # pragma: no cover - the original error matters more
            pass
        raise


def _ensure_seed(config: TrainConfig) -> int:
    if config.seed is None:
        config.seed = random.SystemRandom().randrange(2**31)
        logger.warning("no seed given; generated seed %d", config.seed)
    return int(config.seed)


def _splits(
    triples: np.ndarray | TripleSet, config: TrainConfig, presplit: tuple[Any, Any, Any] | None
) -> tuple[Any, Any, Any, int]:
    """(training, validation, testing, number of triples in all three)."""
    if presplit is not None:
        training, validation, testing = presplit
        return training, validation, testing, sum(p.num_triples for p in presplit)
    factory = make_factory(triples)
    training, validation, testing = split_triples(factory, config.ratios, int(config.seed or 0))
    return training, validation, testing, factory.num_triples


def _new_run(
    config: TrainConfig,
    splits: tuple[Any, Any, Any, int],
    *,
    runs_dir: Path,
    device: Any,
    threads: int,
    backend: str | None,
    source: dict[str, Any] | None,
) -> RunResult:
    training, validation, testing, num_all = splits
    run_id = new_run_id()
    run = RunResult(
        run_id=run_id,
        path=Path(runs_dir) / run_id,
        config={
            **config.to_dict(),
            "device_resolved": str(device),
            "threads_resolved": threads,
            "num_entities": training.num_entities,
            "num_relations": training.num_relations,
            "num_triples": {
                "all": num_all,
                "train": training.num_triples,
                "validation": validation.num_triples,
                "test": testing.num_triples,
            },
            "source": source or {},
        },
        versions=versions(backend),
    )
    run.mark(RUNNING)
    logger.info("run %s -> %s", run_id, run.path)
    return run


def _pipeline_kwargs(
    config: TrainConfig, run: RunResult, splits: tuple[Any, Any, Any, int], device: Any, progress: bool
) -> tuple[dict[str, Any], Any]:
    """Every argument of the ``pykeen.pipeline`` call, and the test triples it ranks."""
    training, validation, testing, _ = splits
    eval_batch = config.resolved_eval_batch_size(training.num_entities)
    run.config["eval_batch_size"] = eval_batch
    eval_validation, eval_testing, extra_filters = evaluation_samples(validation, testing, config)
    evaluation_kwargs: dict[str, Any] = {"batch_size": eval_batch}
    if extra_filters:
        evaluation_kwargs["additional_filter_triples"] = extra_filters
        logger.info(
            "evaluating on %d of %d test triples (--eval-max %d)",
            eval_testing.num_triples,
            testing.num_triples,
            config.eval_max,
        )
    use_stopper = config.early_stopping and validation.num_triples > 0
    kwargs = dict(
        training=training,
        validation=eval_validation,
        testing=eval_testing,
        model=config.model,
        model_kwargs={"embedding_dim": config.dim, **config.model_kwargs},
        optimizer="adam",
        optimizer_kwargs={"lr": config.lr},
        negative_sampler="basic",
        negative_sampler_kwargs={"num_negs_per_pos": config.negatives},
        training_kwargs={
            "batch_size": config.batch_size,
            "use_tqdm_batch": False,
            "pin_memory": device.type == "cuda",  # pinning without an accelerator only warns, every epoch
            "checkpoint_directory": run.path,  # keeps PyKEEN out of ~/.data
        },
        epochs=config.epochs,
        stopper="early" if use_stopper else None,
        stopper_kwargs=dict(
            frequency=config.frequency,
            patience=config.patience,
            relative_delta=config.relative_delta,
            metric="inverse_harmonic_mean_rank",
            evaluation_batch_size=eval_batch,
            best_model_path=run.path / "best_model.pt",
            clean_up_checkpoint=True,
        )
        if use_stopper
        else None,
        # the stopper copies the evaluator's batch size after its first check (else 32 on CPU)
        evaluator_kwargs={"batch_size": eval_batch},
        evaluation_kwargs=evaluation_kwargs,
        random_seed=config.seed,
        device=device,
        use_tqdm=progress,
    )
    return kwargs, eval_testing


def _run_pipeline(kwargs: dict[str, Any], config: TrainConfig) -> Any:
    from pykeen.pipeline import pipeline

    try:
        return pipeline(**kwargs)
    except TypeError as e:
        raise ConfigError(f"model {config.model} rejects its arguments: {e}") from e


def _metrics(result: Any, training: Any, eval_testing: Any, wall: float, use_stopper: bool) -> dict[str, Any]:
    epochs_trained = len(result.losses)
    metrics: dict[str, Any] = extract_metrics(result.metric_results)
    metrics.update(
        {
            "split": "test",
            "filtered": True,
            "evaluated_triples": eval_testing.num_triples,
            "epochs_trained": epochs_trained,
            "stopped_early": bool(use_stopper and getattr(result.stopper, "stopped", False)),
            "final_loss": float(result.losses[-1]) if result.losses else None,
            "losses": [float(x) for x in result.losses],
            "train_seconds": float(result.train_seconds),
            "seconds_per_epoch": float(result.train_seconds) / max(epochs_trained, 1),
            "evaluate_seconds": float(result.evaluate_seconds),
            "pipeline_seconds": wall,
            "train_triples_per_second": training.num_triples * epochs_trained / max(result.train_seconds, 1e-9),
            "detail": {k: float(v) for k, v in result.metric_results.to_flat_dict().items()},
        }
    )
    if use_stopper and getattr(result.stopper, "results", None):
        metrics["validation_mrr"] = [float(x) for x in result.stopper.results]
    return metrics


def _keep_vectors(run: RunResult, model: Any, training: Any) -> None:
    run.entity_to_id = dict(training.entity_to_id)
    run.relation_to_id = dict(training.relation_to_id)
    run.entity_embeddings = _vectors(model.entity_representations[0])
    run.relation_embeddings = (
        _vectors(model.relation_representations[0]) if len(model.relation_representations) else None
    )
    run.config["vector_dim"] = int(run.entity_embeddings.shape[1])
    check_finite(run.entity_embeddings, run.entity_to_id, what="entity", run_id=run.run_id)
    check_finite(run.relation_embeddings, run.relation_to_id, what="relation", run_id=run.run_id)


def train_triples(
    triples: np.ndarray | TripleSet,
    config: TrainConfig,
    *,
    runs_dir: Path,
    backend: str | None = None,
    source: dict[str, Any] | None = None,
    progress: bool = False,
    presplit: tuple[Any, Any, Any] | None = None,
) -> RunResult:
    """Split, train, evaluate and save one run (status ``trained``); returns the saved :class:`RunResult`.

    ``triples`` is a :class:`TripleSet` (from :func:`kg.embeddings.export.export_triples`) or an
    (n, 3) array of labels (head, relation, tail). ``source`` (e.g. export statistics) is
    recorded in config.json. ``presplit`` = (training, validation, testing) PyKEEN factories
    sharing one id space (benchmark datasets with official splits) skips the split. ``progress``
    shows PyKEEN's per-epoch bars (off by default: they fill logs with carriage returns). Torch
    runs on ``config.train_threads`` threads (auto: see :func:`kg.embeddings.config.resolve_threads`)
    for this call only. Raises ConfigError for nonsense configs and for diverged (NaN) vectors.
    """
    config.validate()
    device = resolve_device(config.device)
    _ensure_seed(config)
    threads = resolve_threads(config.train_threads)
    logger.info(
        "seed %d, model %s, dim %d, epochs %d, batch %d, %d thread(s)",
        config.seed,
        config.model,
        config.dim,
        config.epochs,
        config.batch_size,
        threads,
    )
    splits = _splits(triples, config, presplit)
    run = _new_run(config, splits, runs_dir=runs_dir, device=device, threads=threads, backend=backend, source=source)
    with _run_guard(run), torch_threads(threads):
        kwargs, eval_testing = _pipeline_kwargs(config, run, splits, device, progress)
        started = time.perf_counter()
        result = _run_pipeline(kwargs, config)
        wall = time.perf_counter() - started
        (run.path / "best_model.pt").unlink(missing_ok=True)
        run.metrics = _metrics(result, splits[0], eval_testing, wall, kwargs["stopper"] is not None)
        _keep_vectors(run, result.model, splits[0])
        _save_model(run, result, kwargs["model_kwargs"], splits[0], splits[1], splits[2], eval_testing)
        run.save()
        run.mark(TRAINED, finished=True)
    m = run.metrics
    logger.info(
        "run %s: MRR %.4f Hits@1 %.4f Hits@3 %.4f Hits@10 %.4f (%d epochs, %.1fs)",
        run.run_id,
        m["mrr"],
        m["hits_at_1"],
        m["hits_at_3"],
        m["hits_at_10"],
        m["epochs_trained"],
        m["train_seconds"],
    )
    return run


def _save_model(
    run: RunResult, result: Any, model_kwargs: dict, training: Any, validation: Any, testing: Any, evaluated: Any
) -> None:
    """model.pt + model.json (rebuild without pickle) and triples.npz (splits + the ranked test sample)."""
    import torch

    run.path.mkdir(parents=True, exist_ok=True)
    torch.save(result.model.state_dict(), run.path / "model.pt")
    spec = {
        "model": run.config["model"],
        "model_kwargs": model_kwargs,
        "num_entities": training.num_entities,
        "num_relations": training.num_relations,
        "create_inverse_triples": bool(training.create_inverse_triples),
        "load": "kg.embeddings.runs.load_model(RunResult.load(path))",
    }
    (run.path / "model.json").write_text(json.dumps(spec, indent=2, default=str) + "\n", encoding="utf-8")
    np.savez_compressed(
        run.path / "triples.npz",
        train=training.mapped_triples.numpy(),
        validation=validation.mapped_triples.numpy(),
        test=testing.mapped_triples.numpy(),
        test_evaluated=evaluated.mapped_triples.numpy(),
    )
