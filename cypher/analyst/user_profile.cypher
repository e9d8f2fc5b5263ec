// name: user_profile
// description: One person at a glance: segment, behaviour totals, reviews and strongest interests.
// subject: user
// param: user text raw-user-id example=A31UBHTUUIFJUT -- id in your logs (kg pseudonymises it), or give pseudonym=HEX
// param: top int default=5 min=0 example=3 -- interests listed, strongest first
// returns: user, segment, segment_label, products, events, purchases, reviews, first_date, last_date, top_interests
MATCH (u:User {id: $user})
OPTIONAL MATCH (u)-[:IN_SEGMENT]->(s:Segment)
WITH u, s
OPTIONAL MATCH (u)-[e:VIEWED|FAVORITED|CARTED|PURCHASED|RATED]->(p:Product)
WITH u, s, count(DISTINCT p) AS products, toInteger(coalesce(sum(e.count), 0)) AS events,
     toInteger(coalesce(sum(CASE WHEN type(e) = 'PURCHASED' THEN e.count ELSE 0 END), 0)) AS purchases,
     min(e.first_date) AS first_date, max(e.last_date) AS last_date
OPTIONAL MATCH (u)-[:WROTE]->(r:Review)
WITH u, s, products, events, purchases, first_date, last_date, count(r) AS reviews
OPTIONAL MATCH (u)-[i:INTERESTED_IN]->(t)
WITH u, s, products, events, purchases, first_date, last_date, reviews, i, t
ORDER BY i.score DESC, labels(t)[0], coalesce(t.path, t.name)
WITH u, s, products, events, purchases, first_date, last_date, reviews,
     collect(labels(t)[0] + ':' + coalesce(t.path, t.name)) AS interests
RETURN u.id AS user, s.id AS segment, s.label AS segment_label, products, events, purchases, reviews,
       first_date, last_date, interests[..$top] AS top_interests
