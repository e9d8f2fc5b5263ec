// name: segment_top_interests
// description: Per segment, the interests most of its members share (members holding it, mean score).
// subject: segment
// param: segment int default=0 min=0 example=1 -- one segment's id, or 0 for every segment
// param: limit int default=5 min=0 example=3 -- interests per segment
// returns: segment, label, kind, interest, users, avg_score
MATCH (s:Segment)<-[:IN_SEGMENT]-(:User)-[i:INTERESTED_IN]->(t)
WHERE $segment = 0 OR s.id = $segment
WITH s, labels(t)[0] AS kind, coalesce(t.path, t.name) AS interest, count(i) AS users,
     round(1000.0 * avg(i.score)) / 1000.0 AS avg_score
ORDER BY users DESC, avg_score DESC, kind, interest
WITH s, collect({kind: kind, interest: interest, users: users, avg_score: avg_score}) AS ranked
UNWIND ranked[..$limit] AS top
RETURN s.id AS segment, s.label AS label, top.kind AS kind, top.interest AS interest, top.users AS users,
       top.avg_score AS avg_score
ORDER BY segment, users DESC, avg_score DESC, kind, interest
