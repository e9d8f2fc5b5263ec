// name: embed_triple_ids (Neo4j)
// params: $lo, $hi (internal id range of head nodes, lo inclusive, hi exclusive); identifier {{rel}}
// returns: one row: h, t — internal ids of head and tail of every {{rel}} relationship in the page.
// Neo4j seeks ids only by equality, so the range is unwound into one NodeByIdSeek per id.
UNWIND range($lo, $hi - 1) AS i
MATCH (h) WHERE id(h) = i
MATCH (h)-[:{{rel}}]->(t)
RETURN collect(id(h)) AS h, collect(id(t)) AS t
