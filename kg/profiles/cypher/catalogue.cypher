// name: catalogue
// params: none
// returns: id, title, brand, category (leaf path) of every product; brand/category null when absent.
MATCH (p:Product)
OPTIONAL MATCH (p)-[:HAS_BRAND]->(b:Brand)
OPTIONAL MATCH (p)-[:IN_CATEGORY]->(c:Category)
RETURN p.id AS id, p.title AS title, b.name AS brand, c.path AS category
