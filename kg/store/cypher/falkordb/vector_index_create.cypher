// name: vector_index_create (FalkorDB)
// params: $dim; identifiers {{label}}, {{prop}}
// returns: nothing. Cosine HNSW index on {{label}}.{{prop}} (vecf32 values of $dim floats).
CREATE VECTOR INDEX FOR (n:{{label}}) ON (n.{{prop}}) OPTIONS {dimension: $dim, similarityFunction: 'cosine'}
