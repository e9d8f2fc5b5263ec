// name: popular_clear
// params: $limit (edges deleted per call)
// returns: deleted — POPULAR_IN edges removed by this call; call until 0.
MATCH (:Product)-[r:POPULAR_IN]->(:Segment)
WITH r LIMIT $limit
DELETE r
RETURN count(*) AS deleted
