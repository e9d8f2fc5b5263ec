"""Run listing and pruning against the graph, torch threads, NaN/inf imports, train_graph's report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from kg.embeddings import TrainConfig, list_runs, prune_runs, resolve_threads, train_graph, write_run
from kg.embeddings.device import available_cpus, torch_threads
from kg.embeddings.export import export_triples, write_export
from kg.embeddings.external import read_external_run
from kg.foundation.errors import ConfigError, InputError
from tests.planted_graph import fake_run


def runs_of(store, settings, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    triples = export_triples(store)
    ids = []
    for seed in range(n):
        run = fake_run(
            settings.home, triples.entity_labels, np.random.default_rng(seed).normal(size=(triples.num_entities, 4))
        )
        run.mark("trained")
        ids.append(run.run_id)
    return ids


# -- listing and pruning ---------------------------------------------------------------------
def test_runs_mark_the_run_in_the_graph_not_the_newest(graph, settings) -> None:  # type: ignore[no-untyped-def]
    oldest, middle, newest = runs_of(graph, settings, 3)
    write_run(graph, settings, middle)
    rows = list_runs(settings, graph)
    assert [r.run_id for r in rows] == [newest, middle, oldest]
    assert [r.in_graph for r in rows] == [False, True, False]
    nodes = graph.execute("MATCH (n) WHERE n.embedding_run = $r RETURN count(n) AS n", {"r": middle})[0]["n"]
    assert rows[1].graph_nodes == nodes > 0 and rows[1].status == "succeeded" and rows[0].status == "trained"
    assert json.loads(json.dumps([r.as_dict() for r in rows]))[1]["in_graph"] is True
    assert rows[1].lines()[0].startswith("* ") and rows[0].lines()[0].startswith("  ")
    assert all(r.in_graph is None for r in list_runs(settings))  # without the graph: unknown, not False


def test_prune_never_deletes_the_run_in_the_graph(graph, settings) -> None:  # type: ignore[no-untyped-def]
    ids = runs_of(graph, settings, 4)  # oldest first
    write_run(graph, settings, ids[0])
    dry = prune_runs(settings, graph, keep=1, dry_run=True)
    assert sorted(dry.deleted) == sorted(ids[1:3]) and all((settings.runs_dir / r).is_dir() for r in ids)
    report = prune_runs(settings, graph, keep=1, dry_run=False)
    assert sorted(report.deleted) == sorted(ids[1:3]) and ids[0] in report.protected
    assert sorted(p.name for p in settings.runs_dir.iterdir()) == sorted([ids[0], ids[3]])
    assert prune_runs(settings, graph, keep=0).deleted == [ids[3]]
    assert [p.name for p in settings.runs_dir.iterdir()] == [ids[0]]
    with pytest.raises(ConfigError, match="--keep"):
        prune_runs(settings, graph, keep=-1)


# -- threads ---------------------------------------------------------------------------------
def test_thread_count_is_explicit_or_bounded_by_free_cpus() -> None:
    assert resolve_threads(3) == 3
    auto = resolve_threads(0)
    assert 1 <= auto <= min(4, available_cpus())


def test_torch_threads_are_restored_even_after_an_error() -> None:
    before = torch.get_num_threads()
    target = 1 if before != 1 else 2
    with pytest.raises(RuntimeError):
        with torch_threads(target):
            assert torch.get_num_threads() == target
            raise RuntimeError("x")
    assert torch.get_num_threads() == before


# -- train_graph -------------------------------------------------------------------------------
def test_train_graph_reports_writes_and_leaves_no_global_change(graph, settings, capfd) -> None:  # type: ignore[no-untyped-def]
    before = torch.get_num_threads()
    config = TrainConfig(model="TransE", dim=8, epochs=2, seed=3, device="cpu", early_stopping=False, train_threads=1)
    report = train_graph(graph, settings, config)
    assert torch.get_num_threads() == before
    data = json.loads(json.dumps(report.as_dict()))
    assert data["threads"] == 1 and data["epochs_trained"] == 2 and data["seed"] == 3
    assert data["written"]["total_nodes"] == data["run"]["entities"] + 3
    assert [r.status for r in list_runs(settings, graph)] == ["succeeded"]
    assert report.run_id in report.lines()[0]
    assert "\r" not in capfd.readouterr().err  # no progress bars unless progress is given
    lines: list[str] = []
    train_graph(
        graph,
        settings,
        TrainConfig(model="TransE", dim=8, epochs=1, seed=3, device="cpu", early_stopping=False),
        progress=lines.append,
        write=False,
    )
    assert any("exported" in line for line in lines)
    assert [r.status for r in list_runs(settings, graph)] == ["trained", "succeeded"]


# -- NaN / inf in imported vectors -------------------------------------------------------------
def test_nan_in_imported_vectors_names_file_and_entity(graph, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    triples = export_triples(graph)
    out = tmp_path / "export"
    write_export(triples, out, fmt="pbg")
    with open(out / "entity_embeddings.tsv", "w") as fh:
        for i in range(triples.num_entities):
            fh.write(f"{i}\t1\t{'nan' if i == 4 else 0.5}\n")
    with pytest.raises(InputError) as err:
        read_external_run(out, tmp_path / "runs")
    assert "entity_embeddings.tsv:5" in str(err.value) and "NaN or inf" in str(err.value) and err.value.hint

    (out / "entity_embeddings.tsv").unlink()
    vectors = np.ones((triples.num_entities, 3), dtype=np.float32)
    vectors[7, 1] = np.inf
    np.save(out / "kg_entity.npy", vectors)
    with pytest.raises(InputError) as err:
        read_external_run(out, tmp_path / "runs")
    assert "kg_entity.npy" in str(err.value) and repr(triples.entity_labels[7]) in str(err.value)
    assert not (tmp_path / "runs").exists()  # nothing recorded
