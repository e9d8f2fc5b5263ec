"""Store-independent parts of embeddings/: device, config, triples, split, training runs."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np
import pytest
import torch

os.environ.setdefault("PYSTOW_HOME", str(Path(os.environ.get("TMPDIR", "/tmp")) / "kg-pystow"))

from kg.embeddings import TrainConfig, latest_run, load_model, resolve_device, resolve_model, scan_runs, train_triples  # noqa: E402
from kg.embeddings.runs import RunResult, escape_label, find_run, read_id_map, unescape_label, write_id_map  # noqa: E402
from kg.embeddings.train import make_factory, split_triples  # noqa: E402
from kg.embeddings.triples import TripleSet  # noqa: E402
from kg.foundation.errors import ConfigError  # noqa: E402


def toy_triples(users: int = 30, products: int = 12, seed: int = 0) -> np.ndarray:
    """A small behaviour + catalogue graph as labelled triples (users cluster on product groups)."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(users):
        group = u % 3
        for p in rng.choice(np.arange(group * 4, group * 4 + 4), size=3, replace=False):
            rows.append([f"User:u{u}", "PURCHASED", f"Product:p{p}"])
        rows.append([f"User:u{u}", "VIEWED", f"Product:p{rng.integers(products)}"])
    for p in range(products):
        rows.append([f"Product:p{p}", "IN_CATEGORY", f"Category:c{p // 4}"])
        rows.append([f"Product:p{p}", "HAS_BRAND", f"Brand:b{p % 2}"])
    return np.array(rows)


# -- device ----------------------------------------------------------------------------------
def test_device_auto_follows_cuda_availability(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device(None) == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")
    assert resolve_device("cuda") == torch.device("cuda")
    assert resolve_device("cpu") == torch.device("cpu")


def test_device_cuda_without_cuda_is_one_line_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError) as err:
        resolve_device("cuda")
    assert "\n" not in str(err.value) and "CUDA is not available" in str(err.value)
    with pytest.raises(ConfigError, match="unknown device"):
        resolve_device("tpu")


# -- config ----------------------------------------------------------------------------------
def test_any_pykeen_model_by_name() -> None:
    assert resolve_model("transe") == "TransE"
    assert resolve_model("DistMult") == "DistMult"
    assert resolve_model("complex") == "ComplEx"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model": "NoSuchModel"}, "unknown model 'NoSuchModel'; choose one of: "),
        ({"dim": 0}, "--dim must be a positive integer, got 0"),
        ({"dim": -3}, "--dim must be a positive integer"),
        ({"epochs": 0}, "--epochs must be a positive integer"),
        ({"negatives": 0}, "--negatives must be a positive integer"),
        ({"lr": 0.0}, "--lr must be > 0"),
        ({"batch_size": 0}, "--batch-size must be a positive integer"),
        ({"eval_max": -1}, "--eval-max must be 0 (all) or a positive integer"),
    ],
)
def test_nonsense_config_is_one_line_config_error(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        TrainConfig(**kwargs).validate()
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_unknown_model_lists_choices() -> None:
    with pytest.raises(ConfigError) as err:
        TrainConfig(model="Nope").validate()
    assert "transe" in str(err.value) and "distmult" in str(err.value)


# -- triples and split -----------------------------------------------------------------------
def test_tripleset_is_canonical_whatever_the_input_order() -> None:
    triples = toy_triples()
    shuffled = triples[np.random.default_rng(1).permutation(len(triples))]
    a, b = TripleSet.from_labeled(triples), TripleSet.from_labeled(np.concatenate([shuffled, shuffled[:5]]))
    assert a.entity_labels == b.entity_labels == sorted(a.entity_labels)
    assert a.relation_labels == b.relation_labels
    assert np.array_equal(a.mapped, b.mapped)
    assert {tuple(r) for r in a.labeled()} == {tuple(r) for r in triples}


def test_empty_triples_is_config_error() -> None:
    with pytest.raises(ConfigError, match="no triples"):
        make_factory(np.empty((0, 3), dtype=str))


def test_split_is_seeded_and_leak_free() -> None:
    factory = make_factory(toy_triples(users=60))
    train, valid, test = split_triples(factory, (0.8, 0.1, 0.1), seed=42)
    assert train.num_triples + valid.num_triples + test.num_triples == factory.num_triples
    seen_e = set(train.mapped_triples[:, [0, 2]].flatten().tolist())
    seen_r = set(train.mapped_triples[:, 1].tolist())
    for part in (valid, test):
        assert set(part.mapped_triples[:, [0, 2]].flatten().tolist()) <= seen_e
        assert set(part.mapped_triples[:, 1].tolist()) <= seen_r
    again = split_triples(make_factory(toy_triples(users=60)), (0.8, 0.1, 0.1), seed=42)
    for x, y in zip((train, valid, test), again, strict=True):
        assert torch.equal(x.mapped_triples, y.mapped_triples)
    other = split_triples(factory, (0.8, 0.1, 0.1), seed=7)
    assert not torch.equal(other[2].mapped_triples, test.mapped_triples)


def test_tiny_graph_cannot_be_split() -> None:
    factory = make_factory(np.array([["User:a", "PURCHASED", "Product:x"], ["User:b", "PURCHASED", "Product:y"]]))
    with pytest.raises(ConfigError, match="too small"):
        split_triples(factory, (0.8, 0.1, 0.1), seed=1)


# -- id maps ---------------------------------------------------------------------------------
def test_id_map_round_trip_with_awkward_labels(tmp_path: Path) -> None:
    labels = ["Category:Gift Cards|Tab\there", "Product:a\\b", "Brand:new\nline", "User:plain"]
    assert [unescape_label(escape_label(x)) for x in labels] == labels
    for name in ("m.tsv", "m.tsv.gz"):
        write_id_map(tmp_path / name, labels)
        assert read_id_map(tmp_path / name) == {x: i for i, x in enumerate(labels)}


# -- training runs ---------------------------------------------------------------------------
def test_train_writes_a_complete_run_directory(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="kg.embeddings.train")
    config = TrainConfig(model="TransE", dim=8, epochs=2, batch_size=64, frequency=1, device="cpu")
    run = train_triples(toy_triples(), config, runs_dir=tmp_path / "runs", backend="test", progress=False)
    assert "generated seed" in caplog.text and str(run.config["seed"]) in caplog.text
    files = {p.name for p in run.path.iterdir()}
    assert {
        "status.json",
        "config.json",
        "versions.json",
        "metrics.json",
        "model.pt",
        "model.json",
        "entity_to_id.tsv.gz",
        "relation_to_id.tsv.gz",
        "entity_embeddings.npy",
        "relation_embeddings.npy",
        "triples.npz",
    } <= files
    assert "best_model.pt" not in files
    metrics = json.loads((run.path / "metrics.json").read_text())
    for key in ("mrr", "hits_at_1", "hits_at_3", "hits_at_10"):
        assert 0.0 <= metrics[key] <= 1.0
    assert metrics["hits_at_1"] <= metrics["hits_at_3"] <= metrics["hits_at_10"]
    versions = json.loads((run.path / "versions.json").read_text())
    assert {"kg", "pykeen", "torch", "backend"} <= set(versions) and versions["backend"] == "test"
    cfg = json.loads((run.path / "config.json").read_text())
    assert cfg["model"] == "TransE" and cfg["dim"] == 8 and isinstance(cfg["seed"], int)
    assert json.loads((run.path / "status.json").read_text())["status"] == "trained"  # not written anywhere yet

    loaded = RunResult.load(run.path)
    assert loaded.entity_to_id == run.entity_to_id and loaded.entity_embeddings.shape == (len(run.entity_to_id), 8)
    model = load_model(loaded)
    trained = load_model(run)
    ids = torch.tensor([[0, 0, 1], [2, 1, 3]])
    assert torch.allclose(model.score_hrt(ids), trained.score_hrt(ids))
    assert np.allclose(model.entity_representations[0](indices=None).detach().numpy(), run.entity_embeddings)
    assert [r.run_id for r in scan_runs(tmp_path / "runs")] == [run.run_id]
    assert latest_run(tmp_path / "runs").run_id == run.run_id
    assert find_run(tmp_path / "runs", run.run_id[:10]).run_id == run.run_id


def test_same_seed_same_embeddings(tmp_path: Path) -> None:
    config = dict(model="DistMult", dim=4, epochs=1, seed=3, early_stopping=False, device="cpu")
    a = train_triples(toy_triples(), TrainConfig(**config), runs_dir=tmp_path, progress=False)
    b = train_triples(toy_triples(), TrainConfig(**config), runs_dir=tmp_path, progress=False)
    assert a.run_id != b.run_id
    assert np.allclose(a.entity_embeddings, b.entity_embeddings)
    assert latest_run(tmp_path).run_id == b.run_id


def test_complex_valued_model_vectors_are_real(tmp_path: Path) -> None:
    run = train_triples(
        toy_triples(),
        TrainConfig(model="ComplEx", dim=4, epochs=1, seed=1, early_stopping=False, device="cpu"),
        runs_dir=tmp_path,
        progress=False,
    )
    assert run.entity_embeddings.dtype == np.float32 and run.entity_embeddings.shape[1] == 8
    assert run.dim == 8


def brute_force_ranks(model, ranked: np.ndarray, known: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Filtered ranks of both sides of every triple in ``ranked``, scoring every entity by hand:
    1 + the number of non-known candidates scoring strictly higher (the oracle for PyKEEN's evaluator)."""
    known_set = {tuple(t) for t in known.tolist()}
    n = model.num_entities
    ranks = []
    model.eval()
    with torch.no_grad():
        for h, r, t in ranked.tolist():
            tails = model.score_t(torch.tensor([[h, r]])).reshape(-1).numpy()
            heads = model.score_h(torch.tensor([[r, t]])).reshape(-1).numpy()
            for scores, true, other in (
                (tails, t, [(h, r, c) for c in range(n)]),
                (heads, h, [(c, r, t) for c in range(n)]),
            ):
                mask = np.array([c != true and trip in known_set for c, trip in enumerate(other)])
                ranks.append(1 + int(np.sum(scores[~mask] > scores[true])))
    return np.array(ranks, dtype=float)


def test_metrics_match_a_brute_force_ranking_of_the_evaluated_triples(tmp_path: Path) -> None:
    """MRR / Hits@10 equal ranks computed by hand from the saved model, for a full evaluation and for an
    --eval-max sample (the sample is saved in triples.npz, drawn from the test split, filtered by all triples)."""
    base = dict(model="TransE", dim=8, epochs=2, seed=5, early_stopping=False, device="cpu")
    full = train_triples(toy_triples(users=60), TrainConfig(**base, eval_max=0), runs_dir=tmp_path, progress=False)
    capped = train_triples(toy_triples(users=60), TrainConfig(**base, eval_max=10), runs_dir=tmp_path, progress=False)
    assert np.allclose(full.entity_embeddings, capped.entity_embeddings)  # evaluation never changes training
    for run, expected in ((full, full.config["num_triples"]["test"]), (capped, 10)):
        saved = np.load(run.path / "triples.npz")
        known = np.concatenate([saved["train"], saved["validation"], saved["test"]])
        ranked = saved["test_evaluated"]
        assert len(ranked) == expected == run.metrics["evaluated_triples"]
        assert {tuple(t) for t in ranked.tolist()} <= {tuple(t) for t in saved["test"].tolist()}
        ranks = brute_force_ranks(load_model(run), ranked, known)
        assert run.metrics["mrr"] == pytest.approx(float(np.mean(1.0 / ranks)), rel=1e-4)
        assert run.metrics["hits_at_10"] == pytest.approx(float(np.mean(ranks <= 10)), abs=1e-9)
    assert capped.config["num_triples"]["test"] == full.config["num_triples"]["test"] > 10
