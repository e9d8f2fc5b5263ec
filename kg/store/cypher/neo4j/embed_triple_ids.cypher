// name: embed_triple_ids (Neo4j)
// params: none; identifier {{rel}} (the relationship type exported)
// returns: h, t — the element ids of head and tail of every {{rel}} relationship, one row each (streamed;
// the backend maps element ids to dense integers for the span of one export: Neo4j 5 node identity is
// elementId(), and element ids cannot be range-paged).
MATCH (h)-[:{{rel}}]->(t)
RETURN elementId(h) AS h, elementId(t) AS t
