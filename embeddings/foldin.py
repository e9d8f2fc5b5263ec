"""Fold-in: embeddings for users and products that appeared after training, without a retrain.

:func:`fold_in` exports the graph's triples, finds the entities the run does not know, and
trains only their rows against the frozen model: each new row starts at the mean of its known
neighbours' rows and is optimised for ``steps`` passes over its triples with the run's own
scoring function and loss, against negatives that corrupt the known end of each triple. Every
other parameter (known entities, relations) stays bit-identical. The new rows are written to
the graph (``embedding_method = "fold-in"``, same properties as trained vectors) and appended
to the run: ``entity_to_id``, ``entity_embeddings``, ``model.pt``/``model.json`` grow, and
``config.json`` records the appended block under ``appended`` (so ``kg embed write`` writes
them with their method). A second call finds nothing to do.

>>> report = fold_in(store, settings)          # doctest: +SKIP
>>> print("\\n".join(report.lines()))          # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from kg.embeddings.device import resolve_threads, torch_threads
from kg.embeddings.export import export_triples, export_triples_around, graph_relation_types
from kg.embeddings.runs import RunResult, check_write_complete, find_run, utc_now, write_id_map
from kg.embeddings.similar import graph_run_id
from kg.embeddings.train import check_finite
from kg.embeddings.triples import TripleSet, entity_label, split_entity_label
from kg.foundation.errors import ConfigError
from kg.foundation.locks import writer_lock
from kg.foundation.progress import Progress, step_reporter
from kg.foundation.settings import Settings
from kg.store import GraphStore

__all__ = [
    "FoldInReport",
    "FoldInPlan",
    "fold_in",
    "plan_fold_in",
    "neighbour_mean_init",
    "fold_in_rows",
    "resolve_graph_run",
    "write_vectors",
    "METHOD_FOLD_IN",
]

logger = logging.getLogger(__name__)


#: ``embedding_method`` of folded-in vectors
METHOD_FOLD_IN = "fold-in"


_say = step_reporter(logger)


# -- which run --------------------------------------------------------------------------------
def resolve_graph_run(store: GraphStore, settings: Settings, run_id: str | None) -> RunResult:
    """Run ``run_id``, or the run whose vectors are in the graph; ConfigError "no embeddings yet" when none."""
    if run_id is None:
        run_id = graph_run_id(store)
        if run_id is None:
            raise ConfigError(f"no embeddings yet in graph {settings.graph!r}", hint="run `kg embed train` first")
    return find_run(settings.runs_dir, run_id)


# -- report -----------------------------------------------------------------------------------
@dataclasses.dataclass
class FoldInReport:
    """What :func:`fold_in` did."""

    run_id: str
    #: new entities per label (e.g. {"User": 12, "Product": 3})
    entities: dict[str, int]
    #: triples with at least one new end (the ones trained on)
    triples: int
    #: triples of the new entities skipped: their relation type is unknown to the run
    skipped_triples: int
    steps: int
    seconds: float
    train_seconds: float = 0.0
    write_seconds: float = 0.0
    final_loss: float | None = None
    #: vectors written to the graph
    written: int = 0

    @property
    def total_entities(self) -> int:
        return sum(self.entities.values())

    @property
    def seconds_per_entity(self) -> float | None:
        """Wall seconds of the whole call per new entity (None when there were none)."""
        return self.seconds / self.total_entities if self.total_entities else None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        data = dataclasses.asdict(self)
        data["total_entities"] = self.total_entities
        data["seconds_per_entity"] = self.seconds_per_entity
        return data

    def lines(self) -> list[str]:
        """A short human summary."""
        if not self.total_entities:
            return [f"fold-in: no new entities (run {self.run_id} knows every node with triples)"]
        labels = ", ".join(f"{label} {n:,}" for label, n in sorted(self.entities.items()))
        loss = f", final loss {self.final_loss:.4f}" if self.final_loss is not None else ""
        per_entity = self.seconds_per_entity
        assert per_entity is not None  # there are new entities here
        out = [
            f"fold-in into run {self.run_id}: {self.total_entities:,} new entities ({labels}) from "
            f"{self.triples:,} triples, {self.steps} steps{loss}",
            f"  {self.seconds:.2f} s ({per_entity * 1000:.1f} ms per entity; train "
            f"{self.train_seconds:.2f} s, write {self.write_seconds:.2f} s), {self.written:,} vectors written",
        ]
        if self.skipped_triples:
            out.append(f"  skipped {self.skipped_triples:,} triples of relation types the run was not trained on")
        return out


# -- plan -------------------------------------------------------------------------------------
@dataclasses.dataclass
class FoldInPlan:
    """New entities (ids ``num_known + i``) and their triples in the run's id space."""

    num_known: int
    new_labels: list[str]
    #: (n, 3) int64 rows head, relation, tail in the run's ids (new entities >= num_known)
    mapped: np.ndarray
    skipped: int

    @property
    def num_new(self) -> int:
        return len(self.new_labels)

    def per_label(self) -> dict[str, int]:
        return dict(Counter(split_entity_label(x)[0] for x in self.new_labels))


def plan_fold_in(triples: TripleSet, entity_to_id: dict[str, int], relation_to_id: dict[str, int]) -> FoldInPlan:
    """The exported ``triples`` that touch an entity unknown to the run, mapped into the run's ids.

    Unknown entities get ids after the known ones, in sorted label order. Triples of a relation
    type the run does not know cannot be scored: they are dropped and counted (``skipped``);
    an entity seen only in such triples is not new.
    """
    num_known = len(entity_to_id)
    labels = np.asarray(triples.entity_labels, dtype=object)
    known_id = np.fromiter((entity_to_id.get(x, -1) for x in triples.entity_labels), dtype=np.int64, count=len(labels))
    rel_id = np.fromiter(
        (relation_to_id.get(x, -1) for x in triples.relation_labels), dtype=np.int64, count=triples.num_relations
    )
    rows = triples.mapped
    touches_new = (known_id[rows[:, 0]] < 0) | (known_id[rows[:, 2]] < 0)
    scorable = rel_id[rows[:, 1]] >= 0
    skipped = int((touches_new & ~scorable).sum())
    rows = rows[touches_new & scorable]
    new_local = np.unique(np.concatenate([rows[:, 0], rows[:, 2]])) if len(rows) else np.empty(0, np.int64)
    new_local = new_local[known_id[new_local] < 0]  # sorted local ids = sorted labels
    run_id = known_id.copy()
    run_id[new_local] = num_known + np.arange(len(new_local))
    mapped = (
        np.stack([run_id[rows[:, 0]], rel_id[rows[:, 1]], run_id[rows[:, 2]]], axis=1)
        if len(rows)
        else np.empty((0, 3), dtype=np.int64)
    )
    return FoldInPlan(
        num_known=num_known, new_labels=[str(x) for x in labels[new_local]], mapped=mapped, skipped=skipped
    )


def neighbour_mean_init(weight: np.ndarray, mapped: np.ndarray, num_known: int, num_new: int) -> np.ndarray:
    """Start rows of the new entities: the mean of their known neighbours' rows of ``weight``.

    A new entity whose neighbours are all new takes the mean of those neighbours' start rows
    (one more pass); one with none at all takes the mean of every known row.
    """
    dim = weight.shape[1]
    total = np.zeros((num_new, dim), dtype=np.float64)
    count = np.zeros(num_new, dtype=np.int64)
    heads, tails = mapped[:, 0], mapped[:, 2]
    for new_side, other in ((heads, tails), (tails, heads)):
        pick = (new_side >= num_known) & (other < num_known)
        np.add.at(total, new_side[pick] - num_known, weight[other[pick]])
        np.add.at(count, new_side[pick] - num_known, 1)
    init = np.where(count[:, None] > 0, total / np.maximum(count, 1)[:, None], np.nan)
    missing = count == 0
    if missing.any():
        both_new = (heads >= num_known) & (tails >= num_known)
        extra = np.zeros((num_new, dim))
        extra_n = np.zeros(num_new, dtype=np.int64)
        for a, b in ((heads, tails), (tails, heads)):
            pick = both_new & ~missing[np.maximum(b - num_known, 0)] & missing[np.maximum(a - num_known, 0)]
            np.add.at(extra, a[pick] - num_known, init[b[pick] - num_known])
            np.add.at(extra_n, a[pick] - num_known, 1)
        fallback = weight[:num_known].mean(axis=0) if num_known else np.zeros(dim)
        filled = np.where(extra_n[:, None] > 0, extra / np.maximum(extra_n, 1)[:, None], fallback)
        init[missing] = filled[missing]
    return init.astype(weight.dtype, copy=False)


# -- training ---------------------------------------------------------------------------------
def _read_spec(run: RunResult) -> dict[str, Any]:
    path = run.path / "model.json"
    if not path.exists() or not (run.path / "model.pt").exists():
        raise ConfigError(
            f"run {run.run_id} has no saved model (imported embeddings?): fold-in needs one",
            hint="train a run with `kg embed train`",
        )
    return json.loads(path.read_text(encoding="utf-8"))


def _entity_tensor_names(state: dict[str, Any], num_entities: int) -> list[str]:
    """State-dict entries that hold one row per entity (embedding tables of the entity representations)."""
    names = [
        k
        for k, v in state.items()
        if k.startswith("entity_representations.") and v.ndim >= 1 and v.shape[0] == num_entities
    ]
    if not names:
        raise ConfigError(
            "fold-in supports models whose entities are embedding tables (TransE, DistMult, ComplEx, RotatE, ...)",
            hint="retrain with `kg embed train` instead",
        )
    return names


def _build_model(spec: dict[str, Any], train_triples: np.ndarray, num_entities: int) -> Any:
    import torch
    from pykeen.models import model_resolver
    from pykeen.triples import CoreTriplesFactory
    from pykeen.utils import NoRandomSeedNecessary

    factory = CoreTriplesFactory.create(
        mapped_triples=torch.as_tensor(train_triples, dtype=torch.long),
        num_entities=num_entities,
        num_relations=spec["num_relations"],
        create_inverse_triples=spec.get("create_inverse_triples", False),
    )
    kwargs = {**(spec.get("model_kwargs") or {}), "random_seed": NoRandomSeedNecessary}  # the state is loaded next
    return model_resolver.make(spec["model"], kwargs, triples_factory=factory)


def _entity_vectors(model: Any, ids: np.ndarray) -> np.ndarray:
    """Rows ``ids`` as the run stores them (complex values as [real, imag], like embeddings.train)."""
    import torch

    with torch.no_grad():
        x = model.entity_representations[0](indices=torch.as_tensor(ids, dtype=torch.long)).detach().cpu()
    if x.is_complex():
        x = torch.cat([x.real, x.imag], dim=-1)
    return x.reshape(x.shape[0], -1).to(torch.float32).numpy()


@dataclasses.dataclass
class _Trained:
    vectors: np.ndarray
    state: dict[str, Any]
    spec: dict[str, Any]
    final_loss: float | None
    seconds: float


def fold_in_rows(
    run: RunResult,
    plan: FoldInPlan,
    *,
    steps: int = 50,
    lr: float = 0.05,
    negatives: int = 8,
    batch_size: int = 4096,
    seed: int = 0,
) -> _Trained:
    """Train the new rows of ``plan`` against the frozen model of ``run``; returns their vectors and the
    extended state dict (known rows and relations bit-identical to the run's)."""
    import torch

    spec = _read_spec(run)
    state = torch.load(run.path / "model.pt", map_location="cpu", weights_only=True)
    names = _entity_tensor_names(state, int(spec["num_entities"]))
    n_old, n_new = plan.num_known, plan.num_new
    n_all = n_old + n_new
    for name in names:  # rows past num_known (a fold-in that died before committing) are dropped
        old = state[name][:n_old]
        init = neighbour_mean_init(old.numpy(), plan.mapped, n_old, n_new)
        state[name] = torch.cat([old, torch.as_tensor(init, dtype=old.dtype)])
    spec = {**spec, "num_entities": n_all}
    train = np.load(run.path / "triples.npz")["train"]
    model = _build_model(spec, train, n_all)
    model.load_state_dict(state)
    params = dict(model.named_parameters())
    entity_params = [params[n] for n in names if n in params]
    for p in model.parameters():
        p.requires_grad_(False)
    mask = torch.zeros(n_all, 1)
    mask[n_old:] = 1.0
    for p in entity_params:
        p.requires_grad_(True)
        p.register_hook(lambda g, m=mask: g * m.reshape(-1, *([1] * (g.ndim - 1))).to(g.dtype))
    frozen = [p.detach()[:n_old].clone() for p in entity_params]
    optimizer = torch.optim.Adam(entity_params, lr=lr)
    hrt = torch.as_tensor(plan.mapped, dtype=torch.long)
    # corrupt the known end (the new row learns from it); both ends new: the tail
    corrupt_head = (hrt[:, 0] < n_old) & (hrt[:, 2] >= n_old)
    kinds, pools = _label_pools(run.entity_to_id, plan)
    generator = torch.Generator().manual_seed(seed)
    final_loss = None
    started = time.perf_counter()
    model.train()
    with torch_threads(resolve_threads(0)):
        for _ in range(steps):
            order = torch.randperm(len(hrt), generator=generator)
            for lo in range(0, len(hrt), batch_size):
                idx = order[lo : lo + batch_size]
                final_loss = _step(model, optimizer, hrt[idx], corrupt_head[idx], negatives, kinds, pools, generator)
            with torch.no_grad():
                model.post_parameter_update()
                for p, rows in zip(entity_params, frozen, strict=True):
                    p[:n_old] = rows
    seconds = time.perf_counter() - started
    model.eval()
    vectors = _entity_vectors(model, np.arange(n_old, n_all))
    return _Trained(
        vectors=vectors,
        state={k: v.detach().clone() for k, v in model.state_dict().items()},
        spec=spec,
        final_loss=final_loss,
        seconds=seconds,
    )


def _label_pools(entity_to_id: dict[str, int], plan: FoldInPlan) -> tuple[Any, list[Any]]:
    """(label index of every entity id, ids of every label): negatives replace an entity by one of its label."""
    import torch

    names: dict[str, int] = {}
    kinds = np.empty(plan.num_known + plan.num_new, dtype=np.int64)
    for label, i in entity_to_id.items():
        if i < plan.num_known:
            kinds[i] = names.setdefault(label.partition(":")[0], len(names))
    for j, label in enumerate(plan.new_labels):
        kinds[plan.num_known + j] = names.setdefault(label.partition(":")[0], len(names))
    pools = [torch.as_tensor(np.flatnonzero(kinds == k)) for k in range(len(names))]
    return torch.as_tensor(kinds), pools


def _negatives(pos: Any, corrupt_head: Any, negatives: int, kinds: Any, pools: list[Any], generator: Any) -> Any:
    """``negatives`` corruptions of every row of ``pos``, each by a random entity of the replaced one's label."""
    import torch

    neg = pos.repeat_interleave(negatives, dim=0)
    head = corrupt_head.repeat_interleave(negatives)
    replaced = torch.where(head, neg[:, 0], neg[:, 2])
    kind = kinds[replaced]
    random_ids = torch.empty_like(replaced)
    for k, pool in enumerate(pools):
        pick = kind == k
        count = int(pick.sum())
        if count:
            random_ids[pick] = pool[torch.randint(0, len(pool), (count,), generator=generator)]
    neg[:, 0] = torch.where(head, random_ids, neg[:, 0])
    neg[:, 2] = torch.where(head, neg[:, 2], random_ids)
    return neg


def _step(
    model: Any,
    optimizer: Any,
    pos: Any,
    corrupt_head: Any,
    negatives: int,
    kinds: Any,
    pools: list[Any],
    generator: Any,
) -> float:
    b = len(pos)
    neg = _negatives(pos, corrupt_head, negatives, kinds, pools, generator)
    optimizer.zero_grad()
    pos_scores = model.score_hrt(pos)
    neg_scores = model.score_hrt(neg).reshape(b, negatives)
    loss = model.loss.process_slcwa_scores(positive_scores=pos_scores, negative_scores=neg_scores)
    collect = getattr(model, "collect_regularization_term", None)
    if collect is not None:
        loss = loss + collect()
    loss.backward()
    optimizer.step()
    return float(loss.detach())


# -- writing ----------------------------------------------------------------------------------
def write_vectors(store: GraphStore, run: RunResult, labels: Iterable[str], vectors: np.ndarray, method: str) -> int:
    """Set ``vectors`` (one per ``Label:key`` of ``labels``) on their nodes with the write-back's properties
    plus ``embedding_method``; returns the vectors sent."""
    props = {
        "embedding_model": run.model,
        "embedding_run": run.run_id,
        "embedding_dim": int(vectors.shape[1]),
        "embedding_method": method,
    }
    by_label: dict[str, list[dict[str, Any]]] = {}
    for i, label_key in enumerate(labels):
        label, key = split_entity_label(label_key)
        by_label.setdefault(label, []).append({"key": key, "vector": vectors[i], "props": props})
    written = 0
    for label in sorted(by_label):
        written += store.set_vectors(label, by_label[label])
    store.flush()
    return written


def _replace(path: Path, write: Callable[[Path], object]) -> None:
    tmp = path.with_name(f".{path.name}.tmp{path.suffix}")  # keeps .gz / .npy last: writers pick the format by it
    write(tmp)
    os.replace(tmp, path)


def _save_npy(array: np.ndarray) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        with open(path, "wb") as fh:
            np.save(fh, np.ascontiguousarray(array, dtype=np.float32))

    return write


def _commit(run: RunResult, plan: FoldInPlan, trained: _Trained, block: dict[str, Any]) -> None:
    """Append the new rows to the run directory; entity_to_id.tsv.gz is replaced last (the commit point)."""
    import torch

    labels = [""] * plan.num_known
    for label, i in run.entity_to_id.items():
        labels[i] = label
    labels += plan.new_labels
    vectors = np.concatenate([np.asarray(run.entity_embeddings, dtype=np.float32)[: plan.num_known], trained.vectors])
    _replace(run.path / "model.pt", lambda p: torch.save(trained.state, p))
    _replace(
        run.path / "model.json",
        lambda p: p.write_text(json.dumps(trained.spec, indent=2, default=str) + "\n", encoding="utf-8"),
    )
    _replace(run.path / "entity_embeddings.npy", _save_npy(vectors))
    _replace(run.path / "entity_to_id.tsv.gz", lambda p: write_id_map(p, labels))
    run.config.setdefault("appended", []).append(block)
    _replace(
        run.path / "config.json",
        lambda p: p.write_text(json.dumps(run.config, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8"),
    )
    run.entity_to_id = {label: i for i, label in enumerate(labels)}
    run.entity_embeddings = vectors


# -- the call -----------------------------------------------------------------------------------
def fold_in(
    store: GraphStore,
    settings: Settings,
    *,
    run_id: str | None = None,
    steps: int = 50,
    lr: float = 0.05,
    progress: Progress | None = None,
    negatives: int = 8,
    seed: int = 0,
    page_size: int = 50_000,
    around: tuple[Collection[str], Collection[str]] | None = None,
) -> FoldInReport:
    """Embed the graph's entities that run ``run_id`` (default: the run in the graph) does not know.

    ``around`` = (user ids, product ids) looks only at those of them the run does not know, and at their
    relationships (one query instead of exporting the graph): what ``kg serve`` does after each batch.

    Holds the graph's writer lock throughout (re-entrant: callers that hold it already are fine).
    ConfigError "no embeddings yet" when the graph has no run; StoreError when the last
    write-back to this graph did not finish.
    """
    if not isinstance(steps, int) or isinstance(steps, bool) or steps <= 0:
        raise ConfigError(f"--steps must be a positive integer, got {steps!r}")
    if not lr > 0:
        raise ConfigError(f"--lr must be > 0, got {lr!r}")
    if not isinstance(negatives, int) or negatives <= 0:
        raise ConfigError(f"negatives must be a positive integer, got {negatives!r}")
    started = time.perf_counter()
    with writer_lock(settings, what="kg update (fold-in)"):
        run = resolve_graph_run(store, settings, run_id)
        check_write_complete(settings.runs_dir, settings.graph)
        present = set(graph_relation_types(store))
        types = [t for t in sorted(run.relation_to_id, key=run.relation_to_id.__getitem__) if t in present]
        empty = FoldInReport(run_id=run.run_id, entities={}, triples=0, skipped_triples=0, steps=steps, seconds=0.0)
        if not types:
            empty.seconds = time.perf_counter() - started
            return empty
        if around is not None:
            triples = _triples_around(store, run.entity_to_id, around, types)
        else:
            _say(progress, f"fold-in: exporting triples to compare with run {run.run_id}")
            triples = export_triples(store, relation_types=types, page_size=page_size)
        plan = plan_fold_in(triples, run.entity_to_id, run.relation_to_id)
        if not plan.num_new:
            empty.seconds = time.perf_counter() - started
            _say(progress, empty.lines()[0])
            return empty
        _say(progress, f"fold-in: {plan.num_new:,} new entities, {len(plan.mapped):,} triples; training {steps} steps")
        trained = fold_in_rows(run, plan, steps=steps, lr=lr, negatives=negatives, seed=seed)
        check_finite(trained.vectors, {x: i for i, x in enumerate(plan.new_labels)}, what="fold-in", run_id=run.run_id)
        t_write = time.perf_counter()
        written = write_vectors(store, run, plan.new_labels, trained.vectors, METHOD_FOLD_IN)
        report = FoldInReport(
            run_id=run.run_id,
            entities=plan.per_label(),
            triples=int(len(plan.mapped)),
            skipped_triples=plan.skipped,
            steps=steps,
            seconds=0.0,
            train_seconds=trained.seconds,
            final_loss=trained.final_loss,
            written=written,
        )
        block = {
            "method": METHOD_FOLD_IN,
            "start": plan.num_known,
            "end": plan.num_known + plan.num_new,
            "at": utc_now(),
            "entities": report.entities,
            "triples": report.triples,
            "steps": steps,
            "lr": lr,
        }
        _commit(run, plan, trained, block)
        report.write_seconds = time.perf_counter() - t_write
    report.seconds = time.perf_counter() - started
    _say(progress, report.lines()[0])
    return report


def _triples_around(
    store: GraphStore,
    known: dict[str, int],
    around: tuple[Collection[str], Collection[str]],
    types: list[str],
) -> TripleSet:
    """The relationships of the users and products of ``around`` that the run does not know."""
    users = [u for u in around[0] if entity_label("User", u) not in known]
    products = [p for p in around[1] if entity_label("Product", p) not in known]
    return export_triples_around(store, users=users, products=products, relation_types=types)
