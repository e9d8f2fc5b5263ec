// name: embed_node_keys (Neo4j)
// params: $eids (element ids of one page of the export), $keys (map label -> key property)
// returns: one row: ids (element ids), labels, keys — parallel lists for the keyed nodes among $eids
// (deleted nodes and nodes without their key are left out). Each lookup is a NodeByElementIdSeek.
UNWIND $eids AS eid
MATCH (n) WHERE elementId(n) = eid
WITH n, labels(n)[0] AS label
WITH n, label, CASE WHEN $keys[label] IS NULL THEN NULL ELSE n[$keys[label]] END AS key
WHERE key IS NOT NULL
RETURN collect(elementId(n)) AS ids, collect(label) AS labels, collect(key) AS keys
