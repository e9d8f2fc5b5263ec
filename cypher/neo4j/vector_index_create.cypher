// name: vector_index_create (Neo4j)
// params: $dim; identifiers {{index}} (index name), {{label}}, {{prop}}
// returns: nothing. Cosine vector index on {{label}}.{{prop}}.
CREATE VECTOR INDEX {{index}} IF NOT EXISTS FOR (n:{{label}}) ON n.{{prop}}
OPTIONS {indexConfig: {`vector.dimensions`: $dim, `vector.similarity_function`: 'cosine'}}
