"""`kg embed ...` and `kg similar` end to end on a real embedded FalkorDB (tiny graph, 2 epochs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_cli


def one_line_error(result, code: int = 2) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    err = result.stderr.strip()
    assert err.startswith("kg: error: ") and "\n" not in err, err
    return err


def run_json(settings, *args: str) -> Any:  # type: ignore[no-untyped-def]
    """``kg args...`` that must succeed: its output, parsed as JSON."""
    result = run_cli(settings, *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_train_runs_similar_write_cycle(graph, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    command = (
        "embed train --model DistMult --dim 8 --epochs 2 --seed 5 --batch-size 64 --negatives 2 --lr 0.02"
        " --device cpu --json"
    )
    report = run_json(settings, *command.split())
    run_id = report["run"]["run_id"]
    assert report["seed"] == 5 and report["run"]["model"] == "DistMult"
    assert set(report["metrics"]) == {"mrr", "hits_at_1", "hits_at_3", "hits_at_10"}
    n_entities = report["run"]["entities"]
    assert report["written"]["total_nodes"] == n_entities + 3
    assert (settings.runs_dir / run_id / "metrics.json").exists()

    embedded = graph.execute(
        "MATCH (n) WHERE n.embedding IS NOT NULL RETURN count(n) AS n, "
        "min(n.embedding_dim) AS lo, max(n.embedding_dim) AS hi"
    )[0]
    assert embedded == {"n": n_entities + 3, "lo": 8, "hi": 8}

    hits = run_json(settings, "similar", "p1", "--k", "4", "--json")
    assert len(hits) == 4 and all(set(h) == {"id", "title", "score"} for h in hits)
    assert "p1" not in {h["id"] for h in hits}

    runs = run_json(settings, "embed", "runs", "--json")
    assert runs[0]["run_id"] == run_id and runs[0]["in_graph"] and runs[0]["status"] == "succeeded"
    assert runs[0]["epochs_trained"] == 2

    command = "embed train --dim 4 --epochs 1 --no-write --json --relation PURCHASED --no-early-stopping"
    second = run_json(settings, *command.split())
    assert second["written"] is None and second["run"]["relations"] == 1
    # the newest run is not the one in the graph: the listing says which is
    runs = {r["run_id"]: r for r in run_json(settings, "embed", "runs", "--json")}
    assert runs[run_id]["in_graph"] and not runs[second["run"]["run_id"]]["in_graph"]
    pruned = run_json(settings, "embed", "prune", "--keep", "0", "--dry-run", "--json")
    assert pruned["deleted"] == [second["run"]["run_id"]] and run_id in pruned["protected"]
    assert (settings.runs_dir / run_id).is_dir() and (settings.runs_dir / second["run"]["run_id"]).is_dir()
    assert run_json(settings, "embed", "write", run_id[:-2], "--json")["run_id"] == run_id  # an older run, by prefix

    similar = run_json(settings, "embed", "similar", "--k", "3", "--json")
    assert similar == {**similar, "run_id": run_id, "edges": 36}


def test_export_and_import_commands(graph, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "pbg"
    manifest = run_json(settings, "embed", "export", str(out), "--format", "pbg", "--json")
    assert (out / "edges.tsv").exists() and manifest["format"] == "pbg"
    with open(out / "entity_embeddings.tsv", "w") as fh:
        for i in range(manifest["num_entities"]):
            fh.write(f"{i}\t{i}\t1\t0\n")
    report = run_json(settings, "embed", "import", str(out), "--name", "pbg", "--json")
    assert report["written"]["total_nodes"] == manifest["num_entities"]
    assert graph.execute("MATCH (u:User {id: 'u0'}) RETURN u.embedding_model AS m")[0]["m"] == "external:pbg"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["embed", "train", "--model", "NoSuchModel"], "unknown model 'NoSuchModel'"),
        (["embed", "train", "--dim", "0"], "--dim must be a positive integer"),
        (["embed", "train", "--relation", "NOT_A_TYPE", "--epochs", "1"], "absent from the graph: NOT_A_TYPE"),
        (["embed", "export", "x", "--format", "parquet"], "unknown export format 'parquet'"),
        (["embed", "write", "no-such-run"], "no run 'no-such-run'"),
        (["similar", "no-such-product"], "no product with id 'no-such-product'"),
    ],
)
def test_nonsense_is_one_line_error(graph, settings, args: list[str], needle: str) -> None:  # type: ignore[no-untyped-def]
    assert needle in one_line_error(run_cli(settings, *args))


def test_empty_graph_is_one_line_error(store, settings) -> None:  # type: ignore[no-untyped-def]
    err = one_line_error(run_cli(settings, "embed", "train", "--epochs", "1"))
    assert "empty graph" in err
    err = one_line_error(run_cli(settings, "embed", "write"))
    assert "no successful training run" in err


def test_every_embed_command_has_an_example() -> None:
    from typer.main import get_command

    from kg.cli.embed import app as embed_app
    from kg.cli.embed import similar_cmd

    for name, command in get_command(embed_app).commands.items():  # type: ignore[attr-defined]
        assert "Example:" in (command.help or ""), name
    assert "Example:" in (similar_cmd.__doc__ or "")
