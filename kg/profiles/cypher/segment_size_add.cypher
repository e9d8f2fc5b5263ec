// name: segment_size_add
// params: $rows = [{segment, delta}]
// returns: nothing. Moves each Segment's size by delta (kg update: the members it moved in and out).
UNWIND $rows AS row
MATCH (s:Segment {id: row.segment})
SET s.size = coalesce(s.size, 0) + row.delta
