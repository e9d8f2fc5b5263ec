"""A run is `succeeded` only once its write-back completed; an unfinished one is reported with the fix."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from kg.embeddings import list_runs, similar_items, write_run
from kg.embeddings.export import export_triples
from kg.embeddings.runs import RunResult
from kg.foundation.errors import ConfigError, StoreError
from tests.helpers import settings_json
from tests.planted_graph import fake_run

ROOT = Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from kg.embeddings import write_run
    from kg.foundation.settings import Settings
    from kg.store import open_store

    settings = Settings.model_validate_json(sys.argv[1])
    store = open_store(settings, start=False)

    def progress(line):
        print(line, flush=True)
        if "wrote" in line:  # one label is on the graph: wait here to be killed (the test sends nothing)
            sys.stdin.readline()

    write_run(store, settings, sys.argv[3], progress=progress)
""")


def trained_run(store, settings, seed: int) -> RunResult:  # type: ignore[no-untyped-def]
    triples = export_triples(store)
    vectors = np.random.default_rng(seed).normal(size=(triples.num_entities, 6))
    run = fake_run(settings.home, triples.entity_labels, vectors)
    run.mark("trained")
    return run


def status_of(settings, run_id: str) -> str:  # type: ignore[no-untyped-def]
    return next(r.status for r in list_runs(settings) if r.run_id == run_id)


def test_killed_write_back_is_interrupted_and_says_how_to_finish(graph, settings) -> None:  # type: ignore[no-untyped-def]
    first = trained_run(graph, settings, 1)
    write_run(graph, settings, first.run_id)
    assert status_of(settings, first.run_id) == "succeeded"
    second = trained_run(graph, settings, 2)

    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, settings_json(settings), "-", second.run_id],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in proc.stdout:  # type: ignore[union-attr]
            if "wrote" in line:
                break
        else:
            pytest.fail(f"the writer ended early: {proc.stderr.read()}")  # type: ignore[union-attr]
        assert status_of(settings, second.run_id) == "writing"  # its process is alive
    finally:
        proc.kill()
        proc.wait()

    nodes = {r.run_id: r.graph_nodes for r in list_runs(settings, graph)}
    assert nodes[first.run_id] > 0 and nodes[second.run_id] > 0  # vectors of both runs on the graph
    assert status_of(settings, second.run_id) == "interrupted"
    with pytest.raises(StoreError) as err:
        similar_items(graph, "p3", k=3, settings=settings)
    assert "did not finish" in str(err.value) and err.value.hint == f"finish it with `kg embed write {second.run_id}`"
    if graph.dialect == "falkordb":  # the graph alone: FalkorDB's index was dropped for the bulk write
        with pytest.raises(StoreError, match="no vector index"):  # (Neo4j keeps its index: the run says it)
            similar_items(graph, "p3", k=3)

    write_run(graph, settings, second.run_id)  # what the hint says
    assert status_of(settings, second.run_id) == "succeeded"
    assert [(r.run_id, r.in_graph) for r in list_runs(settings, graph) if r.graph_nodes] == [(second.run_id, True)]
    assert len(similar_items(graph, "p3", k=3, settings=settings)) == 3


@pytest.mark.parametrize(
    ("error", "status"), [(RuntimeError("boom"), "write_failed"), (KeyboardInterrupt(), "interrupted")]
)
def test_write_back_raising_midway_is_not_succeeded(graph, settings, error, status) -> None:  # type: ignore[no-untyped-def]
    run = trained_run(graph, settings, 3)

    def progress(line: str) -> None:
        if "wrote" in line:
            raise error

    with pytest.raises(type(error)):
        write_run(graph, settings, run.run_id, progress=progress)
    assert status_of(settings, run.run_id) == status
    with pytest.raises(StoreError, match=f"kg embed write {run.run_id}"):
        similar_items(graph, "p3", settings=settings)


def test_nan_vectors_are_refused_before_anything_is_written(graph, settings) -> None:  # type: ignore[no-untyped-def]
    triples = export_triples(graph)
    vectors = np.ones((triples.num_entities, 4))
    vectors[triples.entity_to_id["Product:p5"], 2] = np.nan
    run = fake_run(settings.home, triples.entity_labels, vectors)
    with pytest.raises(ConfigError) as err:
        write_run(graph, settings, run.run_id)
    assert "'Product:p5'" in str(err.value) and "NaN" in str(err.value) and err.value.hint
    assert graph.execute("MATCH (n) WHERE n.embedding IS NOT NULL RETURN count(n) AS n")[0]["n"] == 0
    assert status_of(settings, run.run_id) == "succeeded"  # fake_run's status: untouched, nothing was written
