// name: embed_node_keys (Neo4j)
// params: $lo, $hi (internal id range, lo inclusive, hi exclusive); $keys (map label -> key property)
// returns: one row: ids, labels, keys — parallel lists for the keyed nodes in the range.
// Neo4j seeks ids only by equality, so the range is unwound into one NodeByIdSeek per id.
UNWIND range($lo, $hi - 1) AS i
MATCH (n) WHERE id(n) = i
WITH n, labels(n)[0] AS label
WITH n, label, CASE WHEN $keys[label] IS NULL THEN NULL ELSE n[$keys[label]] END AS key
WHERE key IS NOT NULL
RETURN collect(id(n)) AS ids, collect(label) AS labels, collect(key) AS keys
