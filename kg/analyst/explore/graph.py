"""What the explorer reads: search by id or name, a node's neighbourhood, and a query result as a graph.

Every read is one of the portable, read-only ``cypher/explore_*.cypher`` queries (labels and keys
enter them only through :func:`kg.store.queries.ident`); nodes are named ``"Label:key"`` everywhere.

>>> node_id("Product", "B001")
'Product:B001'
>>> split_node_id("Category:Books > Maps")
('Category', 'Books > Maps')
>>> column_label("similar_product"), column_label("product_title"), column_label("user")
('Product', None, 'User')
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from kg.analyst.cypher import EXPLORE_IN, EXPLORE_NODE, EXPLORE_OUT, EXPLORE_SEARCH, USER_EXISTS
from kg.foundation import schema
from kg.foundation.errors import ConfigError
from kg.store import GraphStore

__all__ = [
    "SEARCHABLE",
    "node_id",
    "split_node_id",
    "typed_key",
    "search",
    "node",
    "neighbourhood",
    "graph_from_rows",
    "column_label",
    "clean_props",
]

#: label -> the property shown as its name (and searched with CONTAINS)
SEARCHABLE: dict[str, str] = {
    "User": "id",
    "Product": "title",
    "Brand": "name",
    "Category": "path",
    "Aspect": "name",
    "Segment": "label",
}
#: labels whose key is an integer
_INT_KEYS = {"Segment"}
_MAX_TEXT = 400
_MAX_LIST = 20
_NODE_REF = re.compile(r"^([A-Z][A-Za-z]*):(.+)$", re.DOTALL)


def node_id(label: str, key: Any) -> str:
    """The explorer's name of a node: ``Label:key``."""
    return f"{label}:{key}"


def split_node_id(text: str) -> tuple[str, str]:
    """``Label:key`` back to (label, key); ConfigError for anything else."""
    match = _NODE_REF.match(text or "")
    if not match or match.group(1) not in schema.KEYS:
        raise ConfigError(
            f"not a node name: {text!r}", hint=f"write Label:key with Label one of {', '.join(schema.KEYS)}"
        )
    return match.group(1), match.group(2)


def typed_key(label: str, key: Any) -> Any:
    """A key as stored: Segment ids are integers, every other key is text."""
    if label not in schema.KEYS:
        raise ConfigError(f"unknown label {label!r}", hint=f"one of {', '.join(schema.KEYS)}")
    if label in _INT_KEYS:
        try:
            return int(str(key).strip())
        except ValueError:
            raise ConfigError(f"{label} keys are integers, got {key!r}") from None
    return str(key)


def clean_props(props: Mapping[str, Any] | None) -> dict[str, Any]:
    """Properties fit to show: no vectors, long texts and lists cut short."""
    out: dict[str, Any] = {}
    for name, value in (props or {}).items():
        if name.startswith("_") or name == "embedding":
            continue
        if isinstance(value, str) and len(value) > _MAX_TEXT:
            value = value[: _MAX_TEXT - 1] + "…"
        elif isinstance(value, list):
            if len(value) > _MAX_LIST and all(isinstance(v, float) for v in value):
                continue  # a vector under another name
            value = value[:_MAX_LIST]
        out[name] = value
    return out


def _display(label: str, key: Any, props: Mapping[str, Any]) -> str:
    """The short text drawn on a node."""
    if label == "Category":
        name = props.get("name") or str(key).rsplit(">", 1)[-1].strip()
    elif label == "Segment":
        name = f"#{key} {props.get('name') or props.get('label') or ''}".strip()  # name: kg profiles --text
    elif label == "User":
        name = str(key)[:10]
    else:
        name = props.get(SEARCHABLE.get(label, "")) or key
    text = str(name if name not in (None, "") else key)
    return text if len(text) <= 48 else text[:47] + "…"


def _node(label: str, key: Any, props: Mapping[str, Any] | None = None) -> dict[str, Any]:
    shown = clean_props(props)
    return {"id": node_id(label, key), "label": label, "key": key, "name": _display(label, key, shown), "props": shown}


def _primary_label(labels: Iterable[str]) -> str | None:
    labels = list(labels or [])
    return next((label for label in labels if label in schema.KEYS), labels[0] if labels else None)


def _edge(source: str, target: str, rel_type: str, props: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": f"{source}|{rel_type}|{target}",
        "source": source,
        "target": target,
        "type": rel_type,
        "props": clean_props(props),
    }


def search(
    store: GraphStore,
    text: str,
    *,
    label: str | None = None,
    limit: int = 20,
    pseudonymise: Callable[[str], str] | None = None,
    forgotten: Callable[[str], bool] | None = None,
) -> list[dict[str, Any]]:
    """Nodes whose key equals ``text`` or whose name contains it (case-insensitive), exact matches first.

    ``label`` limits the search to one of :data:`SEARCHABLE`; users are found by pseudonym, or by raw
    id when ``pseudonymise`` is given. A raw user id never reaches the server: the text's pseudonym is
    looked up first (a known user is the only answer); the pseudonym of a forgotten person
    (``forgotten``) is not even sent: nothing is found and nothing is queried."""
    text = (text or "").strip()
    if not text:
        return []
    if label and label not in SEARCHABLE:
        raise ConfigError(f"cannot search {label!r}", hint=f"one of {', '.join(SEARCHABLE)}")
    limit = max(1, min(int(limit), 200))
    if pseudonymise is not None:
        pseudonym = pseudonymise(text)
        if forgotten is not None and (forgotten(pseudonym) or forgotten(text)):
            return []
        if pseudonym != text and store.query(USER_EXISTS, id=pseudonym):  # text is a user's raw id
            return [_node("User", pseudonym, {"id": pseudonym})] if label in (None, "User") else []
    found: list[dict[str, Any]] = []
    for current in [label] if label else list(SEARCHABLE):
        keys: list[Any] = [text]
        if current in _INT_KEYS:
            keys = [int(text)] if text.isdigit() else []
        elif current == "User" and pseudonymise is not None:
            keys.append(pseudonymise(text))
        rows = store.query(
            EXPLORE_SEARCH,
            identifiers={"label": current, "key": schema.key_of(current), "shown": SEARCHABLE[current]},
            keys=keys,
            lower=text.lower(),
            limit=limit,
        )
        found += [_node(current, row["key"], {SEARCHABLE[current]: row["name"]}) for row in rows]
    found.sort(key=lambda n: 0 if str(n["key"]) == text else 1)
    return found[:limit]


def node(store: GraphStore, label: str, key: Any) -> dict[str, Any] | None:
    """One node with its properties, or None when there is none."""
    key = typed_key(label, key)
    rows = store.query(EXPLORE_NODE, identifiers={"label": label, "key": schema.key_of(label)}, key=key)
    return _node(label, key, rows[0]["props"]) if rows else None


def neighbourhood(store: GraphStore, label: str, key: Any, *, per_type: int = 25) -> dict[str, Any]:
    """The node and its neighbours, at most ``per_type`` per relationship type and direction:
    ``{"center", "nodes", "edges", "truncated": {"-[:T]->": total}}`` (ConfigError when there is no such node)."""
    center = node(store, label, key)
    if center is None:
        raise ConfigError(f"no {label} with key {key!r}", hint="search for it first")
    per_type = max(1, min(int(per_type), 500))
    nodes = {center["id"]: center}
    edges: dict[str, dict[str, Any]] = {}
    truncated: dict[str, int] = {}
    for query, outgoing in ((EXPLORE_OUT, True), (EXPLORE_IN, False)):
        rows = store.query(
            query, identifiers={"label": label, "key": schema.key_of(label)}, key=center["key"], per_type=per_type
        )
        for row in rows:
            other_label = _primary_label(row["labels"])
            if other_label is None:
                continue
            props = row.get("props") or {}
            other_key = props.get(schema.KEYS.get(other_label, ""), props.get("id"))
            if other_key is None:
                continue
            other = nodes.setdefault(node_id(other_label, other_key), _node(other_label, other_key, props))
            source, target = (center["id"], other["id"]) if outgoing else (other["id"], center["id"])
            edge = _edge(source, target, row["type"], row.get("rel"))
            edges[edge["id"]] = edge
            if int(row["total"]) > per_type:
                truncated[f"-[:{row['type']}]->" if outgoing else f"<-[:{row['type']}]-"] = int(row["total"])
    return {
        "center": center["id"],
        "nodes": list(nodes.values()),
        "edges": list(edges.values()),
        "truncated": truncated,
    }


# -- a query result as a graph ---------------------------------------------------------------------
def column_label(column: str) -> str | None:
    """The label a result column holds keys of, by its name: ``user``, ``product_id``, ``product_a``,
    ``similar_product``; None for anything else (``product_title``, ``score``)."""
    name = column.lower()
    for label in schema.KEYS:
        low = label.lower()
        if (
            name in (low, f"{low}_id", f"{low}_key")
            or re.fullmatch(rf"{low}_[a-z0-9]", name)
            or re.fullmatch(rf"[a-z0-9_]+_{low}(_id)?", name)
        ):
            return label
    return None


class _Collector:
    """Nodes and edges gathered from result values, deduplicated by name."""

    def __init__(self) -> None:
        self.nodes: dict[str, dict[str, Any]] = {}
        self.edges: dict[str, dict[str, Any]] = {}
        self._internal: dict[Any, str] = {}  # FalkorDB internal id -> node name

    def add_node(self, label: str, key: Any, props: Mapping[str, Any] | None = None) -> str:
        made = _node(label, key, props or {})
        known = self.nodes.get(made["id"])
        if known is None or (props and not known["props"]):
            self.nodes[made["id"]] = made
        return made["id"]

    def add_edge(self, source: str, target: str, rel_type: str, props: Mapping[str, Any] | None = None) -> None:
        if source != target:
            edge = _edge(source, target, rel_type, props)
            self.edges.setdefault(edge["id"], edge)

    def structural(self, value: Any) -> list[str]:
        """Nodes, relationships and paths as the FalkorDB store returns them (dicts with ``_labels``...)."""
        if isinstance(value, list):
            return [name for v in value for name in self.structural(v)]
        if not isinstance(value, dict):
            return []
        if "_labels" in value:
            label = _primary_label(value["_labels"])
            key = value.get(schema.KEYS.get(label or "", ""))
            if label is None or key is None:
                return []
            name = self.add_node(label, key, value)
            self._internal[value.get("_id")] = name
            return [name]
        if isinstance(value.get("nodes"), list) and isinstance(value.get("relationships"), list):
            names = [n for v in value["nodes"] for n in self.structural(v)]
            for rel in value["relationships"]:
                self.relationship(rel)
            return names
        if "_type" in value:
            self.relationship(value)
        return []

    def relationship(self, rel: Mapping[str, Any]) -> None:
        source, target = self._internal.get(rel.get("_src")), self._internal.get(rel.get("_dst"))
        if source and target:
            self.add_edge(source, target, str(rel.get("_type")), rel)

    def keys(self, label: str, values: Sequence[Any], types: Sequence[Any] | None) -> list[str]:
        """Nodes of one label from a list of keys (``products``), a path when ``types`` (``via``) fit between them."""
        names = [self.add_node(label, v) for v in values]
        if types and len(types) == len(names) - 1:
            for i, step in enumerate(types):
                self.add_edge(names[i], names[i + 1], re.sub(r"[^A-Za-z0-9_]", "", str(step)) or "PATH")
        return names

    def refs(self, values: Sequence[Any], types: Sequence[Any] | None, *, chain: bool) -> list[str]:
        """Nodes written as ``["Label:key", ...]`` (none unless every value is one); with ``chain`` a path,
        linked in order, typed by ``["-[:T]->" | "<-[:T]-", ...]`` between them."""
        names: list[str] = []
        for value in values:
            match = _NODE_REF.match(value) if isinstance(value, str) else None
            if not match or match.group(1) not in schema.KEYS:
                return []
            label = match.group(1)
            names.append(
                self.add_node(label, typed_key(label, match.group(2)) if label in _INT_KEYS else match.group(2))
            )
        for i in range(len(names) - 1 if chain else 0):
            step = str(types[i]) if types and i < len(types) else "-[:PATH]->"
            rel_type = re.sub(r"[^A-Za-z0-9_]", "", step) or "PATH"
            if step.startswith("<"):
                self.add_edge(names[i + 1], names[i], rel_type)
            else:
                self.add_edge(names[i], names[i + 1], rel_type)
        return names


_PLURAL = {label.lower() + "s": label for label in schema.KEYS}


def graph_from_rows(
    columns: Sequence[str], rows: Sequence[Mapping[str, Any]], *, head: str | None = None, head_type: str = "result"
) -> dict[str, Any] | None:
    """Nodes and edges in a query result, or None when it holds none.

    Found from: node, relationship and path values; columns named after a label (``user``,
    ``product_a``, ``similar_product``), whose values in one row are linked from the first such
    column to the others (edge type: the column name); and ``Label:key`` lists (a recommendation's
    ``path``, typed by a ``path_types`` column beside it); a list of keys in a plural column
    (``products``), a path when a ``via`` list of types is beside it; ``kind`` + ``interest``.
    ``head`` (``Label:key``, the query's subject) is linked to every row's first node by ``head_type``.
    """
    found = _Collector()
    head_name = None
    if head:
        label, key = split_node_id(head)
        head_name = found.add_node(label, typed_key(label, key))
    labels = [(c, column_label(c)) for c in columns]
    labelled = [(c, label) for c, label in labels if label]
    for row in rows:
        in_row: list[tuple[str, list[str]]] = []
        for column in columns:
            value = row.get(column)
            found.structural(value)
            plural = _PLURAL.get(column.lower())
            if plural and isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                via = row.get("via")
                names = found.keys(plural, value, via if isinstance(via, list) else None)
                if not isinstance(via, list):
                    in_row.append((column, names))
                continue
            if (
                column.lower() == "kind"
                and isinstance(value, str)
                and value in schema.KEYS
                and isinstance(row.get("interest"), (str, int))
            ):
                in_row.append(("interest", [found.add_node(value, typed_key(value, row["interest"]))]))
                continue
            if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                types = row.get(f"{column}_types")
                chain = column == "path" or isinstance(types, list)
                names = found.refs(value, types if isinstance(types, list) else None, chain=chain)
                if names and not chain:
                    in_row.append((column, names))
        for column, label in labelled:
            value = row.get(column)
            values = value if isinstance(value, list) else [value]
            names = [
                found.add_node(label, typed_key(label, v) if label in _INT_KEYS else v)
                for v in values
                if isinstance(v, (str, int)) and not isinstance(v, bool) and v != ""
            ]
            if names:
                in_row.insert(sum(1 for c, _ in in_row if column_label(c)), (column, names))
        if head_name and in_row:
            for name in in_row[0][1]:
                found.add_edge(head_name, name, head_type)
        if len(in_row) > 1:
            (_, heads), rest = in_row[0], in_row[1:]
            for column, names in rest:
                for head in heads:
                    for name in names:
                        found.add_edge(head, name, column)
    if not found.nodes or (head_name and len(found.nodes) == 1):
        return None
    return {"nodes": list(found.nodes.values()), "edges": list(found.edges.values())}
