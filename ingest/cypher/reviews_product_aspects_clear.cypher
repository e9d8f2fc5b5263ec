// name: reviews_product_aspects_clear
// params: $rows = [product id]
// returns: nothing. Removes HAS_ASPECT aggregates before they are recomputed.
UNWIND $rows AS k
MATCH (p:Product {id: k})-[h:HAS_ASPECT]->(:Aspect)
DELETE h
