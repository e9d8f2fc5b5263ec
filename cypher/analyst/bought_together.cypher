// name: bought_together
// description: The products most often bought with one product (count: people who bought or rated both).
// subject: product
// param: product text example=B004LLIKVU -- the product's id
// param: limit int default=10 min=0 example=5 -- rows wanted
// returns: product, title, count
MATCH (:Product {id: $product})-[t:BOUGHT_TOGETHER]->(q:Product)
RETURN q.id AS product, q.title AS title, t.count AS count
ORDER BY count DESC, product
LIMIT $limit
