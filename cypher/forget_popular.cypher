// name: forget_popular
// params: $segment (int), $run, $size (the segment's new size, > 0), $items (product ids the user bought or rated)
// returns: updated — POPULAR_IN edges of the segment re-scored. share = buyers / size (4 decimals):
// buyers = round(share x old size), less one for the products the user bought or rated.
MATCH (p:Product)-[r:POPULAR_IN]->(s:Segment {id: $segment})
WHERE r.run = $run
WITH r, round(r.share * ($size + 1)) - CASE WHEN p.id IN $items THEN 1 ELSE 0 END AS buyers
SET r.share = round(10000.0 * buyers / $size) / 10000.0
RETURN count(r) AS updated
