// name: vector_set (Neo4j)
// params: $rows = [{key, vector: [float], props: map}]; identifiers {{label}} {{key}} {{prop}}
// returns: written (count)
UNWIND $rows AS row
MATCH (n:{{label}} {{{key}}: row.key})
SET n.{{prop}} = row.vector, n += row.props
RETURN count(n) AS written
