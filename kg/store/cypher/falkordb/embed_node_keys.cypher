// name: embed_node_keys (FalkorDB)
// params: $lo, $hi (internal id range, lo inclusive, hi exclusive); $keys (map label -> key property,
//         kg.foundation.schema.KEYS)
// returns: one row: ids, labels, keys — parallel lists for the keyed nodes in the range (nodes whose
// label has no entry in $keys, or that lack their key, are left out).
MATCH (n)
WHERE id(n) >= $lo AND id(n) < $hi
WITH n, labels(n)[0] AS label
WITH n, label, CASE WHEN $keys[label] IS NULL THEN NULL ELSE n[$keys[label]] END AS key
WHERE key IS NOT NULL
RETURN collect(id(n)) AS ids, collect(label) AS labels, collect(key) AS keys
