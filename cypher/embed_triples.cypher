// name: embed_triples
// params: $lo, $hi (internal id range of head nodes, lo inclusive, hi exclusive); $keys (map label -> key property,
//         kg.schema.KEYS); identifier {{rel}} (the relationship type exported)
// returns: hl, hk, tl, tk — head label and key, tail label and key, one row per relationship.
// One page of the triple export: FalkorDB answers the id range with a NodeByIdSeek, so paging is linear.
MATCH (h)-[:{{rel}}]->(t)
WHERE id(h) >= $lo AND id(h) < $hi
WITH h, t, labels(h)[0] AS hl, labels(t)[0] AS tl
RETURN hl, h[$keys[hl]] AS hk, tl, t[$keys[tl]] AS tk
