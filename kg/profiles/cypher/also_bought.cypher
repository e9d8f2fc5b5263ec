// name: also_bought
// params: none
// returns: source, target: every catalogue (:Product)-[:ALSO_BOUGHT]->(:Product) link.
MATCH (p:Product)-[:ALSO_BOUGHT]->(q:Product)
RETURN p.id AS source, q.id AS target
