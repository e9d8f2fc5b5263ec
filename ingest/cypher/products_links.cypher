// name: products_links
// params: $rows = [{id, targets: [product id]}]; identifier {{rel}} (ALSO_BOUGHT | ALSO_VIEWED)
// returns: nothing. Targets outside the catalogue become Product stubs (no `catalogued`).
UNWIND $rows AS row
MATCH (p:Product {id: row.id})
UNWIND row.targets AS target
MERGE (q:Product {id: target})
MERGE (p)-[:{{rel}}]->(q)
