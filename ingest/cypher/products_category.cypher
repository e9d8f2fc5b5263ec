// name: products_category
// params: $rows = [{id, path}] (path of the leaf category)
// returns: nothing. One IN_CATEGORY per product: a moved product loses its old edge.
UNWIND $rows AS row
MATCH (p:Product {id: row.id})
MATCH (c:Category {path: row.path})
MERGE (p)-[:IN_CATEGORY]->(c)
WITH p, row
MATCH (p)-[old:IN_CATEGORY]->(other:Category)
WHERE other.path <> row.path
DELETE old
