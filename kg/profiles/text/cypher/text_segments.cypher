// name: text_segments
// params: none
// returns: segment, label, size, top_interests, total — every segment (total: users in all segments)
MATCH (s:Segment)
WITH collect(s) AS segments, sum(s.size) AS total
UNWIND segments AS s
RETURN s.id AS segment, s.label AS label, s.size AS size, s.top_interests AS top_interests, total
ORDER BY segment
