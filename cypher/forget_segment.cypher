// name: forget_segment
// params: $segment (int), $run (the profiles run that put the user there)
// returns: size — the segment's size after one member left (no row when the segment is of another run).
MATCH (s:Segment {id: $segment})
WHERE s.run = $run
SET s.size = s.size - 1
RETURN s.size AS size
