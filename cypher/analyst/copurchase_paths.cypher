// name: copurchase_paths
// description: How one product leads to another through co-purchases (BOUGHT_TOGETHER, ALSO_BOUGHT), 1-3 hops.
// subject: product
// param: source text example=B004LLIKVU -- one product's id
// param: target text example=B00IX1I3G6 -- the other product's id
// param: limit int default=10 min=0 example=5 -- paths wanted, shortest first
// returns: hops, products, via
// Edges are followed from source towards target (each product's own strongest partners, at most ~20, so a
// 3-hop search stays small even at hub products); a path never visits a product twice.
MATCH path = (:Product {id: $source})-[:BOUGHT_TOGETHER|ALSO_BOUGHT*1..3]->(:Product {id: $target})
WITH path, [n IN nodes(path) | n.id] AS products
WHERE all(x IN products WHERE size([y IN products WHERE y = x]) = 1)
RETURN DISTINCT length(path) AS hops, products, [r IN relationships(path) | type(r)] AS via
ORDER BY hops, products, via
LIMIT $limit
