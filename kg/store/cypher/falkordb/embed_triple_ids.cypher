// name: embed_triple_ids (FalkorDB)
// params: $lo, $hi (internal id range of head nodes, lo inclusive, hi exclusive); identifier {{rel}} (the
//         relationship type exported)
// returns: one row: h, t — the internal ids of head and tail of every {{rel}} relationship in the page,
// as two parallel lists (ints only: labels and keys are read once per node by embed_node_keys).
// FalkorDB answers the id range with a NodeByIdSeek, so paging is linear.
MATCH (h)-[:{{rel}}]->(t)
WHERE id(h) >= $lo AND id(h) < $hi
RETURN collect(id(h)) AS h, collect(id(t)) AS t
