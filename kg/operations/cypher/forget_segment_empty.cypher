// name: forget_segment_empty
// params: $segment (int)
// returns: deleted — 1 when the segment has no member left and was removed (with its POPULAR_IN edges).
MATCH (s:Segment {id: $segment})
WHERE s.size <= 0
DETACH DELETE s
RETURN count(*) AS deleted
