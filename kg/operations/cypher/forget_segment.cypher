// name: forget_segment
// params: $id (user pseudonym), $segment (int), $run (the profiles run that put the user there)
// returns: size — the segment's size after one member left (no row when the segment is of another run).
// Once only: the user's IN_SEGMENT edge is marked in the same query; run again, it returns the size as it is.
MATCH (s:Segment {id: $segment})
WHERE s.run = $run
OPTIONAL MATCH (:User {id: $id})-[m:IN_SEGMENT]->(s)
WITH s, m, m IS NOT NULL AND m.forget_counted IS NULL AS first
FOREACH (x IN CASE WHEN first THEN [1] ELSE [] END | SET s.size = s.size - 1, m.forget_counted = true)
RETURN s.size AS size
