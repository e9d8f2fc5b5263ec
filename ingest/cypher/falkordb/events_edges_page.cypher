// name: events_edges_page (FalkorDB)
// params: $lo, $hi (internal id range of User nodes, lo inclusive, hi exclusive); identifier {{rel}}
// returns: user, item, count, times (a pre-ledger edge's event_times list, else null), rating — every
// (:User)-[:{{rel}}]->(:Product) edge whose user is in the page. FalkorDB seeks the id range directly.
MATCH (u:User)-[r:{{rel}}]->(p:Product)
WHERE id(u) >= $lo AND id(u) < $hi
RETURN u.id AS user, p.id AS item, r.count AS count, r.event_times AS times, r.rating AS rating
