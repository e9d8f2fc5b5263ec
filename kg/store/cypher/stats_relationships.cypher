// name: stats_relationships
// params: none
// returns: type, n — relationship count per type
MATCH ()-[r]->()
RETURN type(r) AS type, count(*) AS n
ORDER BY type
