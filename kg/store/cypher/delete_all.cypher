// name: delete_all
// params: $limit
// returns: deleted — removes up to $limit nodes (and their relationships); call until 0
MATCH (n)
WITH n LIMIT $limit
DETACH DELETE n
RETURN count(*) AS deleted
