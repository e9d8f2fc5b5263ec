// name: relationship_count
// params: none; identifier {{rel}} (relationship type)
// returns: n — the number of {{rel}} relationships
MATCH ()-[r:{{rel}}]->()
RETURN count(r) AS n
