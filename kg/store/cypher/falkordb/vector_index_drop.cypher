// name: vector_index_drop (FalkorDB)
// params: none; identifiers {{label}}, {{prop}}
// returns: nothing.
DROP VECTOR INDEX FOR (n:{{label}}) ON (n.{{prop}})
