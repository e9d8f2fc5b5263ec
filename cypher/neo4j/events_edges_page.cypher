// name: events_edges_page (Neo4j)
// params: $lo, $hi (internal id range of User nodes, lo inclusive, hi exclusive); identifier {{rel}}
// returns: user, item, count, times (a pre-ledger edge's event_times list, else null), rating.
// Neo4j seeks ids only by equality, so the range is unwound into one NodeByIdSeek per id.
UNWIND range($lo, $hi - 1) AS i
MATCH (u:User) WHERE id(u) = i
MATCH (u)-[r:{{rel}}]->(p:Product)
RETURN u.id AS user, p.id AS item, r.count AS count, r.event_times AS times, r.rating AS rating
