// name: events_max_user_id (FalkorDB)
// params: none
// returns: max_id — the largest internal id of a User node (null when there is none); bounds the
// paged scan of behaviour edges (events_edges_page)
MATCH (u:User)
RETURN max(id(u)) AS max_id
