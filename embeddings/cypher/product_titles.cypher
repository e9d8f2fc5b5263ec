// name: product_titles
// params: $ids (list of Product ids)
// returns: id, title
UNWIND $ids AS pid
MATCH (p:Product {id: pid})
RETURN p.id AS id, p.title AS title
