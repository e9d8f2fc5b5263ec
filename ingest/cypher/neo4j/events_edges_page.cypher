// name: events_edges_page (Neo4j)
// params: $lo, $hi (unused on Neo4j: element ids cannot be range-paged, and events_max_user_id makes the
//         scan one page); identifier {{rel}}
// returns: user, item, count, times (a pre-ledger edge's event_times list, else null), rating — every
// {{rel}} behaviour edge, streamed
MATCH (u:User)-[r:{{rel}}]->(p:Product)
RETURN u.id AS user, p.id AS item, r.count AS count, r.event_times AS times, r.rating AS rating
