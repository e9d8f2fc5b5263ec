// name: reviews_catalogue
// params: none
// returns: label, key, name — catalogue names the review entity ruler matches (brands, categories, product titles)
MATCH (b:Brand) WHERE b.name IS NOT NULL
RETURN 'Brand' AS label, b.name AS key, b.name AS name
UNION ALL
MATCH (c:Category) WHERE c.name IS NOT NULL
RETURN 'Category' AS label, c.path AS key, c.name AS name
UNION ALL
MATCH (p:Product) WHERE p.title IS NOT NULL
RETURN 'Product' AS label, p.id AS key, p.title AS name
