// name: vector_set (FalkorDB)
// params: $rows = [{key, vector: [float], props: map}]; identifiers {{label}} {{key}} {{prop}}
// returns: written (count). A vecf32 overwritten by one of the same size is ignored, so NULL it first.
UNWIND $rows AS row
MATCH (n:{{label}} {{{key}}: row.key})
SET n.{{prop}} = NULL
WITH n, row
SET n.{{prop}} = vecf32(row.vector), n += row.props
RETURN count(n) AS written
