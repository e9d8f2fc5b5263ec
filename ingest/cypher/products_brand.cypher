// name: products_brand
// params: $rows = [{id, brand}]
// returns: nothing. One HAS_BRAND per product: a changed brand replaces the old edge.
UNWIND $rows AS row
MATCH (p:Product {id: row.id})
MERGE (b:Brand {name: row.brand})
MERGE (p)-[:HAS_BRAND]->(b)
WITH p, row
MATCH (p)-[old:HAS_BRAND]->(other:Brand)
WHERE other.name <> row.brand
DELETE old
