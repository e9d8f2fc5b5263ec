// name: profiles_segments
// params: none
// returns: id, label, size, top_interests, run — every segment, largest first
MATCH (s:Segment)
RETURN s.id AS id, s.label AS label, s.size AS size, s.top_interests AS top_interests, s.run AS run
ORDER BY size DESC, id
