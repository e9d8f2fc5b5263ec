"""Fold-in of entities that appeared after training: planning, start rows, and the whole call on a real graph."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from kg.embeddings import TrainConfig, find_run, load_model, train_triples, write_run
from kg.embeddings.export import export_triples
from kg.embeddings.foldin import fold_in, neighbour_mean_init, plan_fold_in
from kg.embeddings.similar import similar_items
from kg.embeddings.triples import TripleSet
from kg.foundation.errors import ConfigError


# -- pure parts ----------------------------------------------------------------------------------
def test_plan_maps_new_entities_after_the_known_ones_and_skips_unknown_relations() -> None:
    triples = TripleSet.from_labeled(
        [
            ["User:a", "PURCHASED", "Product:x"],  # both known: not used
            ["User:n2", "PURCHASED", "Product:x"],  # new user
            ["User:n1", "PURCHASED", "Product:p9"],  # two new ends
            ["User:n3", "WISHED", "Product:x"],  # relation the run does not know: skipped, n3 not new
        ]
    )
    known = {"Product:x": 0, "User:a": 1}
    plan = plan_fold_in(triples, known, {"PURCHASED": 0})
    assert plan.num_known == 2 and plan.new_labels == ["Product:p9", "User:n1", "User:n2"]
    assert sorted(map(tuple, plan.mapped.tolist())) == [(3, 0, 2), (4, 0, 0)]
    assert plan.skipped == 1 and plan.per_label() == {"Product": 1, "User": 2}


def test_start_rows_are_the_mean_of_known_neighbours() -> None:
    weight = np.array([[1.0, 0.0], [0.0, 2.0], [4.0, 4.0]])  # 3 known rows
    mapped = np.array(
        [
            [3, 0, 0],
            [3, 0, 1],  # new 3 -> known 0 and 1: mean (0.5, 1.0)
            [2, 1, 4],  # known 2 -> new 4: (4, 4)
            [5, 0, 3],  # new 5 only next to new 3: takes 3's start row
            [6, 0, 7],  # 6 and 7 know nobody: mean of every known row
        ]
    )
    init = neighbour_mean_init(weight, mapped, 3, 5)
    np.testing.assert_allclose(init, [[0.5, 1.0], [4.0, 4.0], [0.5, 1.0], [5 / 3, 2.0], [5 / 3, 2.0]])


# -- on a graph ------------------------------------------------------------------------------------
NEW_ENTITIES = """
MATCH (p3:Product {id: 'p3'}), (p4:Product {id: 'p4'}), (u0:User {id: 'u0'}), (u1:User {id: 'u1'}),
      (b:Brand {name: 'brand0'}), (c:Category {path: 'Shop|Dept 1'})
CREATE (n:User {id: 'new1'}), (p:Product {id: 'p99', title: 'Product 99'})
CREATE (n)-[:PURCHASED {count: 1}]->(p3), (n)-[:PURCHASED {count: 1}]->(p4),
       (u0)-[:PURCHASED {count: 1}]->(p), (u1)-[:PURCHASED {count: 1}]->(p),
       (p)-[:HAS_BRAND]->(b), (p)-[:IN_CATEGORY]->(c)
"""


_TRAINED: dict[str, Path] = {}  # one training per module: runs are copied into each test's KG_HOME


@pytest.fixture
def trained(graph, settings, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The id of a small TransE run of the planted graph, written to it."""
    if "run" not in _TRAINED:
        config = TrainConfig(
            model="TransE",
            dim=16,
            epochs=12,
            seed=5,
            device="cpu",
            early_stopping=False,
            batch_size=64,
            eval_max=20,
            lr=0.05,
        )
        run = train_triples(export_triples(graph), config, runs_dir=tmp_path_factory.mktemp("foldin-runs"))
        _TRAINED["run"] = run.path
    source = _TRAINED["run"]
    shutil.copytree(source, settings.runs_dir / source.name)
    write_run(graph, settings, source.name)
    return source.name


def test_no_run_in_the_graph_is_a_config_error(graph, settings) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="no embeddings yet") as err:
        fold_in(graph, settings)
    assert "kg embed train" in str(err.value)


def test_fold_in_embeds_new_entities_writes_them_and_is_idempotent(  # type: ignore[no-untyped-def]
    graph, settings, trained
) -> None:
    before = find_run(settings.runs_dir, trained)
    graph.execute(NEW_ENTITIES)
    report = fold_in(graph, settings, steps=30)
    assert report.run_id == trained and report.entities == {"User": 1, "Product": 1}
    assert report.triples == 6 and report.written == 2 and report.skipped_triples == 0
    assert report.seconds_per_entity == pytest.approx(report.seconds / 2)
    assert "2 new entities" in report.lines()[0] and report.as_dict()["total_entities"] == 2

    after = find_run(settings.runs_dir, trained)
    n = len(before.entity_to_id)
    assert len(after.entity_to_id) == n + 2 and after.entity_embeddings.shape == (n + 2, 16)
    assert {after.entity_to_id["Product:p99"], after.entity_to_id["User:new1"]} == {n, n + 1}
    np.testing.assert_array_equal(after.entity_embeddings[:n], before.entity_embeddings)  # frozen rows
    assert np.isfinite(after.entity_embeddings[n:]).all()
    assert load_model(after).entity_representations[0]().shape[0] == n + 2  # model.pt / model.json grew too

    row = graph.execute(
        "MATCH (p:Product {id: 'p99'}) RETURN p.embedding_method AS m, p.embedding_run AS r, "
        "p.embedding_dim AS d, p.embedding_model AS model"
    )[0]
    assert row == {"m": "fold-in", "r": trained, "d": 16, "model": "TransE"}
    assert graph.execute("MATCH (u:User {id: 'new1'}) RETURN u.embedding_method AS m")[0]["m"] == "fold-in"
    hits = similar_items(graph, "p99", k=3, settings=settings)
    assert len(hits) == 3 and all(h["id"] != "p99" for h in hits)

    again = fold_in(graph, settings)
    assert again.total_entities == 0 and again.seconds_per_entity is None and "no new entities" in again.lines()[0]

    write_run(graph, settings, trained)  # a re-write keeps each vector's method
    methods = {
        r["id"]: r["m"]
        for r in graph.execute(
            "MATCH (p:Product) WHERE p.id IN ['p99', 'p1'] RETURN p.id AS id, p.embedding_method AS m"
        )
    }
    assert methods == {"p99": "fold-in", "p1": "trained"}


def test_folded_in_user_scores_its_own_purchases_above_the_rest(  # type: ignore[no-untyped-def]
    graph, settings, trained
) -> None:
    import torch

    bought = ["p2", "p5", "p8"]
    graph.execute("CREATE (:User {id: 'fresh'})")
    graph.execute(
        "MATCH (u:User {id: 'fresh'}), (p:Product) WHERE p.id IN $ids CREATE (u)-[:PURCHASED]->(p)", {"ids": bought}
    )
    fold_in(graph, settings, steps=50)
    run = find_run(settings.runs_dir, trained)
    model = load_model(run)
    products = sorted(x for x in run.entity_to_id if x.startswith("Product:"))
    user, rel = run.entity_to_id["User:fresh"], run.relation_to_id["PURCHASED"]
    hrt = torch.tensor([[user, rel, run.entity_to_id[p]] for p in products])
    with torch.no_grad():
        scores = model.score_hrt(hrt).reshape(-1).numpy()
    ranks = {p.split(":", 1)[1]: int((scores > scores[i]).sum()) for i, p in enumerate(products)}
    assert all(ranks[p] < 3 for p in bought), ranks  # its three purchases are the model's top three
