// name: text_user_segment
// params: $ids = [user id (pseudonym)]
// returns: user, segment, label, size, name — each user's segment (name: the segment's stored name, or null)
UNWIND $ids AS k
MATCH (u:User {id: k})-[:IN_SEGMENT]->(s:Segment)
RETURN u.id AS user, s.id AS segment, s.label AS label, s.size AS size, s.name AS name
