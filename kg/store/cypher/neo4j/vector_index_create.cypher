// name: vector_index_create (Neo4j)
// params: $dim; identifiers {{index}} (index name), {{label}}, {{prop}}
// returns: nothing. Cosine vector index on {{label}}.{{prop}}, without quantization: Neo4j 5.23+ quantizes
// by default, and its scores are then approximate (a vector scored 0.991 against itself, a planted twin at
// cos 0.99995 came back as 0.982, measured on 5.26.20); kg's similarities must be the real cosine.
CREATE VECTOR INDEX {{index}} IF NOT EXISTS FOR (n:{{label}}) ON n.{{prop}}
OPTIONS {indexConfig: {`vector.dimensions`: $dim, `vector.similarity_function`: 'cosine',
                       `vector.quantization.enabled`: false}}
