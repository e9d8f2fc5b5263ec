// name: forget_together
// params: $id (user pseudonym), $items (product ids the user bought or rated), $run (the profiles run that counted the user)
// returns: decremented — (:Product)-[:BOUGHT_TOGETHER {count}]->(:Product) edges between two of $items
// written by $run lose one: count is the number of distinct users who bought or rated both. Once only:
// the user's IN_SEGMENT edge of $run is marked in the same query (a resumed forget decrements nothing).
MATCH (:User {id: $id})-[m:IN_SEGMENT]->(:Segment)
WHERE m.run = $run AND m.forget_together IS NULL
SET m.forget_together = true
WITH DISTINCT m.run AS run
UNWIND $items AS source
MATCH (p:Product {id: source})-[r:BOUGHT_TOGETHER]->(q:Product)
WHERE q.id IN $items AND r.run = run
SET r.count = r.count - 1
RETURN count(r) AS decremented
