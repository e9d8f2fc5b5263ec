// name: together_clear
// params: $limit (edges deleted per call)
// returns: deleted — BOUGHT_TOGETHER edges removed by this call; call until 0.
MATCH (:Product)-[r:BOUGHT_TOGETHER]->(:Product)
WITH r LIMIT $limit
DELETE r
RETURN count(*) AS deleted
