// name: forget_popular
// params: $id (user pseudonym), $segment (int), $run, $size (the segment's new size, > 0), $items (product ids
// the user bought or rated)
// returns: updated — POPULAR_IN edges of the segment re-scored. share = buyers / size (4 decimals):
// buyers = round(share x old size), less one for the products the user bought or rated. Once only: the
// user's IN_SEGMENT edge is marked in the same query (a resumed forget re-scores nothing).
MATCH (:User {id: $id})-[m:IN_SEGMENT]->(s:Segment {id: $segment})
WHERE m.forget_popular IS NULL
SET m.forget_popular = true
WITH DISTINCT s
MATCH (p:Product)-[r:POPULAR_IN]->(s)
WHERE r.run = $run
WITH r, round(r.share * ($size + 1)) - CASE WHEN p.id IN $items THEN 1 ELSE 0 END AS buyers
SET r.share = round(10000.0 * buyers / $size) / 10000.0
RETURN count(r) AS updated
