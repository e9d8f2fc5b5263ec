// name: events_max_user_id (Neo4j)
// params: none
// returns: max_id — 0 when there is a User node, else null: on Neo4j the scan of behaviour edges
// (events_edges_page) is one streamed page, since node identity is elementId() and cannot be range-paged
MATCH (u:User)
WITH count(u) AS n
RETURN CASE WHEN n = 0 THEN null ELSE 0 END AS max_id
