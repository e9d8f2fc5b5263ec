"""Train a PyKEEN model on labelled triples, evaluate it honestly, save the run.

Training goes through :func:`pykeen.pipeline.pipeline` (sLCWA, Adam, basic negative sampling,
early stopping on validation MRR); evaluation is PyKEEN's filtered rank-based evaluator on the
test split (MRR, Hits@1/3/10, both sides, realistic ranks).

>>> import numpy as np
>>> from embeddings import TrainConfig, train_triples
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
import warnings
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from kg.errors import ConfigError
from embeddings.config import TrainConfig
from embeddings.device import resolve_device
from embeddings.runs import RunResult, new_run_id, utc_now
from embeddings.triples import TripleSet

__all__ = ["train_triples", "split_triples", "make_factory", "versions", "METRIC_KEYS", "extract_metrics"]

logger = logging.getLogger(__name__)

# PyKEEN's data loader always asks for pinned memory; on a CPU-only machine torch warns each epoch.
warnings.filterwarnings("ignore", message=".*'pin_memory' argument is set as true but no accelerator.*")

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


def make_factory(triples: "np.ndarray | TripleSet") -> Any:
    """A PyKEEN TriplesFactory from a :class:`TripleSet` or an (n, 3) array of labelled triples.

    Ids follow sorted labels, so the same triples always get the same ids.
    """
    if not isinstance(triples, TripleSet):
        arr = np.asarray(triples)
        if arr.ndim != 2 or arr.shape[1] != 3:
            raise ConfigError(f"triples must be an (n, 3) array, got shape {arr.shape}")
        triples = TripleSet.from_labeled(arr)
    if triples.num_triples == 0:
        raise ConfigError("no triples to train on (empty graph?)", hint="ingest data or choose other --relations")
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
    extra_filters = [full.mapped_triples for full, used in ((validation, eval_validation), (testing, eval_testing))
                     if used is not full]
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


@contextlib.contextmanager
def _run_guard(run: RunResult) -> Iterator[None]:
    """Mark the run failed (with a one-line error) when training raises."""
    try:
        yield
    except BaseException as e:
        run.status = "failed"
        run.error = f"{type(e).__name__}: {e}".splitlines()[0][:500]
        run.finished_at = utc_now()
        try:
            run.save_status()
        except OSError:  # pragma: no cover - the original error matters more
            pass
        raise


def train_triples(
    triples: "np.ndarray | TripleSet",
    config: TrainConfig,
    *,
    runs_dir: Path,
    backend: str | None = None,
    source: dict[str, Any] | None = None,
    progress: bool = True,
    presplit: tuple[Any, Any, Any] | None = None,
) -> RunResult:
    """Split, train, evaluate and save one run; returns the saved :class:`RunResult`.

    ``triples`` is a :class:`TripleSet` (from :func:`embeddings.export.export_triples`) or an
    (n, 3) array of labels (head, relation, tail). ``source`` (e.g. export statistics) is
    recorded in config.json. ``presplit`` = (training, validation, testing) PyKEEN factories
    sharing one id space (benchmark datasets with official splits) skips the split. Raises
    ConfigError for nonsense configs.
    """
    from pykeen.pipeline import pipeline

    config.validate()
    device = resolve_device(config.device)
    if config.seed is None:
        config.seed = random.SystemRandom().randrange(2**31)
        logger.warning("no seed given; generated seed %d", config.seed)
    logger.info("seed %d, model %s, dim %d, epochs %d", config.seed, config.model, config.dim, config.epochs)

    if presplit is not None:
        training, validation, testing = presplit
        factory = training
        num_all = training.num_triples + validation.num_triples + testing.num_triples
    else:
        factory = make_factory(triples)
        training, validation, testing = split_triples(factory, config.ratios, config.seed)
        num_all = factory.num_triples

    run_id = new_run_id()
    run = RunResult(
        run_id=run_id,
        path=Path(runs_dir) / run_id,
        config={
            **config.to_dict(),
            "device_resolved": str(device),
            "num_entities": factory.num_entities,
            "num_relations": factory.num_relations,
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
    run.save_status()
    logger.info("run %s -> %s", run_id, run.path)

    with _run_guard(run):
        eval_batch = config.resolved_eval_batch_size(factory.num_entities)
        run.config["eval_batch_size"] = eval_batch
        use_stopper = config.early_stopping and validation.num_triples > 0
        stopper_kwargs = dict(
            frequency=config.frequency,
            patience=config.patience,
            relative_delta=config.relative_delta,
            metric="inverse_harmonic_mean_rank",
            evaluation_batch_size=eval_batch,
            best_model_path=run.path / "best_model.pt",
            clean_up_checkpoint=True,
        )
        model_kwargs = {"embedding_dim": config.dim, **config.model_kwargs}
        eval_validation, eval_testing, extra_filters = evaluation_samples(validation, testing, config)
        evaluation_kwargs: dict[str, Any] = {"batch_size": eval_batch}
        if extra_filters:
            evaluation_kwargs["additional_filter_triples"] = extra_filters
            logger.info("evaluating on %d of %d test triples (--eval-max %d)", eval_testing.num_triples,
                        testing.num_triples, config.eval_max)
        started = time.perf_counter()
        try:
            result = pipeline(
                training=training,
                validation=eval_validation,
                testing=eval_testing,
                model=config.model,
                model_kwargs=model_kwargs,
                optimizer="adam",
                optimizer_kwargs={"lr": config.lr},
                negative_sampler="basic",
                negative_sampler_kwargs={"num_negs_per_pos": config.negatives},
                training_kwargs={
                    "batch_size": config.batch_size,
                    "use_tqdm_batch": False,
                    "checkpoint_directory": run.path,  # keeps PyKEEN out of ~/.data
                },
                epochs=config.epochs,
                stopper="early" if use_stopper else None,
                stopper_kwargs=stopper_kwargs if use_stopper else None,
                # the stopper copies the evaluator's batch size after its first check (else 32 on CPU)
                evaluator_kwargs={"batch_size": eval_batch},
                evaluation_kwargs=evaluation_kwargs,
                random_seed=config.seed,
                device=device,
                use_tqdm=progress,
            )
        except TypeError as e:
            raise ConfigError(f"model {config.model} rejects its arguments: {e}") from e
        wall = time.perf_counter() - started
        (run.path / "best_model.pt").unlink(missing_ok=True)

        model = result.model
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
                "evaluate_seconds": float(result.evaluate_seconds),
                "pipeline_seconds": wall,
                "train_triples_per_second": training.num_triples * epochs_trained / max(result.train_seconds, 1e-9),
                "detail": {k: float(v) for k, v in result.metric_results.to_flat_dict().items()},
            }
        )
        if use_stopper and getattr(result.stopper, "results", None):
            metrics["validation_mrr"] = [float(x) for x in result.stopper.results]

        run.metrics = metrics
        run.entity_to_id = dict(training.entity_to_id)
        run.relation_to_id = dict(training.relation_to_id)
        run.entity_embeddings = _vectors(model.entity_representations[0])
        run.relation_embeddings = (
            _vectors(model.relation_representations[0]) if len(model.relation_representations) else None
        )
        run.config["vector_dim"] = int(run.entity_embeddings.shape[1])
        run.status = "succeeded"
        run.finished_at = utc_now()
        _save_model(run, result, model_kwargs, training, validation, testing)
        run.save()
    logger.info(
        "run %s: MRR %.4f Hits@1 %.4f Hits@3 %.4f Hits@10 %.4f (%d epochs, %.1fs)",
        run_id,
        metrics["mrr"],
        metrics["hits_at_1"],
        metrics["hits_at_3"],
        metrics["hits_at_10"],
        epochs_trained,
        result.train_seconds,
    )
    return run


def _save_model(run: RunResult, result: Any, model_kwargs: dict, training: Any, validation: Any, testing: Any) -> None:
    import torch

    run.path.mkdir(parents=True, exist_ok=True)
    torch.save(result.model.state_dict(), run.path / "model.pt")
    spec = {
        "model": run.config["model"],
        "model_kwargs": model_kwargs,
        "num_entities": training.num_entities,
        "num_relations": training.num_relations,
        "create_inverse_triples": bool(training.create_inverse_triples),
        "load": "embeddings.runs.load_model(RunResult.load(path))",
    }
    (run.path / "model.json").write_text(json.dumps(spec, indent=2, default=str) + "\n", encoding="utf-8")
    np.savez_compressed(
        run.path / "triples.npz",
        train=training.mapped_triples.numpy(),
        validation=validation.mapped_triples.numpy(),
        test=testing.mapped_triples.numpy(),
    )
