// name: clear_similar
// params: $limit (edges deleted per call)
// returns: deleted — SIMILAR_TO edges removed by this call; call until 0 (bounded memory on big graphs)
MATCH (:Product)-[s:SIMILAR_TO]->(:Product)
WITH s LIMIT $limit
DELETE s
RETURN count(*) AS deleted
