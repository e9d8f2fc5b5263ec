// name: explore_out (kg explore)
// params: $key (the node's key value), $per_type (int: neighbours kept per relationship type)
// identifiers: {{label}}, {{key}}
// returns: type, total (all relationships of that type), rel (its properties), labels, props (the neighbour)
//          for the outgoing relationships (n)-[r]->(m), at most $per_type per type. Read-only.
MATCH (n:{{label}})
WHERE n.{{key}} = $key
MATCH (n)-[r]->(m)
WITH type(r) AS type, count(r) AS total, collect([r, m])[0..$per_type] AS pairs
UNWIND pairs AS pair
WITH type, total, pair[0] AS r, pair[1] AS m
RETURN type, total, properties(r) AS rel, labels(m) AS labels, properties(m) AS props
ORDER BY type
