// name: explore_node (kg explore)
// params: $key (the node's key value); identifiers: {{label}}, {{key}}
// returns: labels, props of the one node with that key (no row when there is none). Read-only.
MATCH (n:{{label}})
WHERE n.{{key}} = $key
RETURN labels(n) AS labels, properties(n) AS props
LIMIT 1
