// name: forget_together
// params: $items (product ids the user bought or rated), $run (the profiles run that counted the user)
// returns: decremented — (:Product)-[:BOUGHT_TOGETHER {count}]->(:Product) edges between two of $items
// written by $run lose one: count is the number of distinct users who bought or rated both.
UNWIND $items AS source
MATCH (p:Product {id: source})-[r:BOUGHT_TOGETHER]->(q:Product)
WHERE q.id IN $items AND r.run = $run
SET r.count = r.count - 1
RETURN count(r) AS decremented
