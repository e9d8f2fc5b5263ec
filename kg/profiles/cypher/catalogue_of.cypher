// name: catalogue_of
// params: $ids = [product id]
// returns: id, title, brand, category (leaf path) of these products; brand/category null when absent.
UNWIND $ids AS k
MATCH (p:Product {id: k})
OPTIONAL MATCH (p)-[:HAS_BRAND]->(b:Brand)
OPTIONAL MATCH (p)-[:IN_CATEGORY]->(c:Category)
RETURN p.id AS id, p.title AS title, b.name AS brand, c.path AS category
