// name: forget_together_zero
// params: $items (product ids)
// returns: deleted — BOUGHT_TOGETHER edges from $items whose count fell to 0 (nobody left bought both).
UNWIND $items AS source
MATCH (p:Product {id: source})-[r:BOUGHT_TOGETHER]->(:Product)
WHERE r.count <= 0
DELETE r
RETURN count(*) AS deleted
