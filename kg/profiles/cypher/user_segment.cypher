// name: user_segment
// params: $id (pseudonymised user id)
// returns: id, label, size, top_interests — the user's segment (no row when not profiled)
MATCH (u:User {id: $id})-[:IN_SEGMENT]->(s:Segment)
RETURN s.id AS id, s.label AS label, s.size AS size, s.top_interests AS top_interests
