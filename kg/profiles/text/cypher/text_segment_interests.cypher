// name: text_segment_interests
// params: none
// returns: segment, label, key, name, users — per segment, its label's interests (the segment's
// top_interests) with their kind and how many members hold each
MATCH (s:Segment)<-[:IN_SEGMENT]-(:User)-[:INTERESTED_IN]->(t)
WHERE coalesce(t.path, t.name) IN s.top_interests
RETURN s.id AS segment, labels(t)[0] AS label, coalesce(t.path, t.name) AS key, t.name AS name, count(*) AS users
ORDER BY segment, users DESC, label, key
