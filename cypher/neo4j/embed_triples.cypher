// name: embed_triples (Neo4j)
// params: $lo, $hi (internal id range of head nodes, lo inclusive, hi exclusive); $keys (map label -> key property,
//         kg.schema.KEYS); identifier {{rel}} (the relationship type exported)
// returns: hl, hk, tl, tk — head label and key, tail label and key, one row per relationship.
// Neo4j seeks ids only by equality, so the range is unwound into one NodeByIdSeek per id.
UNWIND range($lo, $hi - 1) AS i
MATCH (h) WHERE id(h) = i
MATCH (h)-[:{{rel}}]->(t)
WITH h, t, labels(h)[0] AS hl, labels(t)[0] AS tl
RETURN hl, h[$keys[hl]] AS hk, tl, t[$keys[tl]] AS tk
