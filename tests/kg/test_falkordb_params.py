"""The fast FalkorDB parameter encoder: same literals as the official client, same values back."""

from __future__ import annotations

import math

import numpy as np
import pytest
from falkordb.helpers import stringify_param_value

from kg.store.base import GraphStore
from kg.store.falkordb_params import Literal, encode, float32_list, params_header

VALUES = [
    "plain",
    "",
    'quote " and back\\slash',
    "ünïcödé ✓",
    0,
    -17,
    2**53,
    1.5,
    -0.0001,
    1e-12,
    3.0e20,
    [1, "a", None],
    [0.25, -1.5, 3.0],
    {"a": 1, "b c": [1.0, 2.0], "d": {"e": "f"}},
    [],
    {},
    [{"key": "Product:1", "vector": [0.1, 0.2], "props": {"run": "r1", "dim": 2}}],
]


@pytest.mark.parametrize("value", VALUES, ids=[repr(v)[:30] for v in VALUES])
def test_encoding_matches_the_official_client(value: object) -> None:
    # the only difference: float lists come from list.__repr__, with a space after each comma
    assert encode(value).replace(", ", ",") == stringify_param_value(value).replace(", ", ",")


def test_numpy_values_become_plain_literals() -> None:
    assert encode(np.float32(0.5)) == "0.5"
    assert encode(np.int64(7)) == "7"
    assert encode(np.array([1.0, 2.0])) == "[1.0, 2.0]"
    assert encode(True) == "true" and encode(None) == "null"


def test_nonfinite_numbers_and_bad_keys_are_refused() -> None:
    with pytest.raises(ValueError):
        encode(math.nan)
    with pytest.raises(ValueError):
        encode([0.1, math.inf])
    with pytest.raises(ValueError):
        params_header({"bad`key": 1})
    with pytest.raises(TypeError):
        encode(object())


def test_values_round_trip_through_a_real_server(store: GraphStore) -> None:
    sent = {
        "s": 'quote " back\\slash ünï',
        "i": -42,
        "f": 0.125,
        "v": [0.5, -0.25, 1e-07],
        "m": {"k": "v", "n": [1, 2]},
        "n": None,
        "b": False,
        "e": [],
    }
    row = store.execute("RETURN $s AS s, $i AS i, $f AS f, $v AS v, $m AS m, $n AS n, $b AS b, $e AS e", sent)[0]
    assert row["s"] == sent["s"] and row["i"] == -42 and row["f"] == 0.125 and row["m"] == sent["m"]
    assert row["v"] == pytest.approx(sent["v"]) and row["n"] is None and row["b"] is False and row["e"] == []


@pytest.mark.falkordb_only("vecf32 and the float32 text encoding are FalkorDB's (kg/store/falkordb_params.py)")
def test_float32_vectors_round_trip_exactly(store: GraphStore) -> None:
    vector = np.random.default_rng(3).normal(scale=1e-3, size=16).astype(np.float32)
    text = float32_list(vector)
    assert isinstance(text, Literal) and encode({"v": text}) == "{`v`:" + text + "}"
    assert np.array_equal(np.array(eval(text), dtype=np.float32), vector)  # 9 digits: exact for float32
    row = store.execute("RETURN vecf32($v) AS v", {"v": text})[0]
    assert np.array_equal(np.asarray(row["v"], dtype=np.float32), vector)
    with pytest.raises(ValueError):
        float32_list([0.5, float("nan")])


def _per_value(value: object) -> str:
    """The same value through the generic per-value path (the row fast paths switched off)."""
    from kg.store import falkordb_params

    saved, falkordb_params._FAST_ROWS = falkordb_params._FAST_ROWS, 10**9
    try:
        return encode(value)
    finally:
        falkordb_params._FAST_ROWS = saved


ROW_VALUES = [
    *['q"uote', "back\\slash", "ünï ✓", "50%s", "", 0, -3, 2**62, 0.5, 1e-12, None, True, [1, "a"], {"k": 1}],
    *[["u1", "P2", "P3"], [], ("User", "Product"), ['q"x', "y"], ["back\\", "z"], [""]],  # paths: string lists
]


@pytest.mark.parametrize("shape", ["dict", "tuple", "list"])
def test_row_batches_encode_exactly_like_the_per_value_path(shape: str) -> None:
    rng = np.random.default_rng(7)
    for _ in range(200):
        width = int(rng.integers(1, 6))
        pools = [rng.choice(len(ROW_VALUES), size=int(rng.integers(1, 4))) for _ in range(width)]
        rows = [[ROW_VALUES[int(rng.choice(pool))] for pool in pools] for _ in range(int(rng.integers(16, 40)))]
        batch = (
            [{f"k{i}%": v for i, v in enumerate(r)} for r in rows]
            if shape == "dict"
            else [tuple(r) if shape == "tuple" else r for r in rows]
        )
        # an all-float row is a float list: list.__repr__ puts a space after its commas
        assert encode(batch).replace(", ", ",") == _per_value(batch).replace(", ", ",")


def test_row_batches_that_do_not_fit_fall_back() -> None:
    ragged = [{"a": 1, "b": 2}] * 20 + [{"b": 2, "a": 1}]  # key order differs: per-value path
    assert encode(ragged) == _per_value(ragged)
    uneven = [(1, 2)] * 20 + [(1,)]
    assert encode(uneven) == _per_value(uneven)
    with pytest.raises(ValueError):
        encode([{"a": 1.0}] * 20 + [{"a": math.inf}])
    with pytest.raises(ValueError):
        encode([(1.0, "x")] * 20 + [(math.nan, "x")])


def test_positional_rows_round_trip_through_a_real_server(store: GraphStore) -> None:
    rows = [(f'u"{i}\\', i, i / 4, None if i % 2 else "ünï") for i in range(40)]
    back = store.execute(
        "UNWIND $rows AS row RETURN row[0] AS s, row[1] AS i, row[2] AS f, row[3] AS n", {"rows": rows}
    )
    assert [(r["s"], r["i"], r["f"], r["n"]) for r in back] == rows
